"""What the commands take from the project and the command line before they act: the
settings, the specs, and whether Keras is there for the commands that run layers."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from ..config import Config, ConfigError
from ..errors import SpecError
from ..regenerate import BadSpecs, display_path
from .status import Failure


def settings(args: argparse.Namespace) -> Config:
    """The project's settings with this command's flags applied over them."""
    from .. import config

    try:
        found = config.find()
    except ConfigError as exc:
        raise Failure([f"cbamgen: {exc}"]) from None
    return replace(
        found,
        output=getattr(args, "output", None) or found.output,
        target=getattr(args, "target", None) or found.target,
    )


def render_all(specs: Sequence[Path], settings: Config):
    """Every spec rendered in memory (see :func:`cbamgen.regenerate.render_all`)."""
    from ..regenerate import render_all as render

    try:
        return render(specs, settings.output, settings.target, settings.root)
    except BadSpecs as exc:
        raise Failure(exc.reports) from None


def helpers(specs: Sequence[Path], settings: Config) -> list:
    """The helper files a ``render`` or ``check`` of the whole project (no SPEC) covers:
    ``insert_blocks.py`` when ``[tool.cbamgen] insert_helper`` keeps it, or when it is
    in the output folder."""
    from ..insert_helper import FILE_NAME, rendered

    wanted = settings.insert_helper or (settings.output / FILE_NAME).exists()
    return [rendered(settings.output, settings.target)] if wanted and not specs else []


def all_specs(specs: Sequence[Path], settings: Config) -> list[Path]:
    """``specs``, or when none is given every spec in the project's specs folder."""
    from ..loader import SPEC_SUFFIXES

    found = list(specs) or sorted(
        path for suffix in SPEC_SUFFIXES for path in settings.specs.glob(f"*{suffix}")
    )
    if not found:
        raise Failure(
            [f"cbamgen: no SPEC given and no {settings.specs.as_posix()}/*.yaml found"]
        )
    return found


def load_or_fail(path: Path):
    """The spec at ``path``; a :class:`Failure` with the located error otherwise."""
    from ..loader import load_spec

    try:
        return load_spec(path, display_name=display_path(path))
    except SpecError as exc:
        raise Failure([exc.report()]) from None


def needs_keras(command: str, tensorflow: bool = False) -> None:
    """Refuse, with the fix, a command that runs layers when Keras (or, for timing,
    TensorFlow) is not installed."""
    import importlib.util

    missing = [
        name
        for name in ("keras", *(("tensorflow",) if tensorflow else ()))
        if importlib.util.find_spec(name) is None
    ]
    if missing:
        backend = "TensorFlow" if tensorflow else "a backend"
        raise Failure(
            [
                f"cbamgen {command}: runs the layers, so it needs Keras 3 and {backend} "
                f"({', '.join(missing)} not found): pip install tensorflow-cpu"
            ]
        )
