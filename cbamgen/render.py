"""Spec -> Python source. Pure: no files are read but templates, none are written.

The output is formatted by black in-process with a fixed mode (a user's pyproject.toml
cannot change it) and parsed with ``ast`` before anyone can write it, so a template bug
surfaces here as a clear error rather than as a broken file on disk.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from functools import cache
from pathlib import Path

import black
import jinja2

from . import header
from .docs import Docstrings
from .plan import plan
from .spec import Spec

#: Black's mode is fixed: output must not depend on the caller's configuration.
BLACK_MODE = black.Mode(
    target_versions={black.TargetVersion.PY39},
    line_length=88,
    string_normalization=True,
    magic_trailing_comma=True,
)


class RenderError(Exception):
    """A template produced invalid Python: a bug in cbamgen, never in the user's spec."""


def _shipped(folder: str, probe: str) -> Path:
    """A folder shipped inside the wheel (``cbamgen/<folder>``); in a checkout it sits
    at the repository root, next to the package."""
    package = Path(__file__).resolve().parent
    for candidate in (package / folder, package.parent / folder):
        if (candidate / probe).is_file():
            return candidate
    raise RenderError(f"cbamgen's {folder} are missing (looked in {package})")


def templates_dir() -> Path:
    return _shipped("templates", "module.py.j2")


def specs_dir() -> Path:
    """The bundled specs (``cbamgen bench`` compares with specs/cbam.yaml)."""
    return _shipped("specs", "cbam.yaml")


@cache
def environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["literal"] = repr  # a plan value as a Python literal
    return env


def _close_method_gaps(text: str) -> str:
    """Drop blank lines inside method bodies (before lines indented 8+ spaces).

    Optional template blocks that print nothing leave empty lines behind; black keeps
    them. Generated method bodies never want one, so they are removed in one place here
    instead of with whitespace-control markers on every tag.
    """
    kept: list[str] = []
    following = ""  # the next line that is not blank
    for line in reversed(text.split("\n")):
        if line.strip():
            following = line
        if line.strip() or not following.startswith(" " * 8):
            kept.append(line)
    return "\n".join(reversed(kept))


def render_source(spec: Spec, spec_path: str) -> str:
    """The generated module for ``spec``; ``spec_path`` is named in its header line."""
    planned = plan(spec)
    template = environment().get_template("module.py.j2")
    raw = _close_method_gaps(template.render(plan=planned, docs=Docstrings.of(planned)))
    return finish(raw, lambda body: header.attach(spec_path, body), spec_path)


def finish(raw: str, attach: Callable[[str], str], origin: str) -> str:
    """A rendered template as a file: formatted by black, with the header line
    ``attach`` puts on it, and parsed, so that a template bug is a clear error naming
    ``origin``."""
    try:
        body = black.format_str(raw, mode=BLACK_MODE)
        source = attach(body)
        ast.parse(source)
    except (black.InvalidInput, SyntaxError) as exc:
        raise RenderError(
            f"cbamgen produced invalid Python for {origin}: {exc}"
        ) from exc
    return source
