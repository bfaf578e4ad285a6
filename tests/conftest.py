"""Shared test set-up. Tests run from the repository root, whatever directory pytest
was started in.

Tests are marked by what they need (see tests/needs.py): ``pytest -m "not keras"`` runs
the generator's own tests, without Keras installed, in a minute or two. A module whose
imports need something says so with a module-level mark::

    pytestmark = [pytest.mark.keras, pytest.mark.compare]

Such a module is not imported at all when ``-m`` excludes its marks, or when what it
needs is not installed: then it is listed as skipped at the end. A test marked on its
own is skipped in the same case. Under ``CI=true`` nothing is skipped for a missing
requirement: the tests fail, as CI must run everything. ``slow`` tests run only when
``-m`` names them.
"""

from __future__ import annotations

import ast
import itertools
import os
import shutil
from pathlib import Path

import pytest

from .needs import INSTALL, missing

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)
CI = os.environ.get("CI", "").lower() == "true"
_not_collected: dict[str, list[str]] = {}


def module_marks(path: Path) -> set[str]:
    """The names in a test module's ``pytestmark = ...`` (read, not imported)."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError, UnicodeDecodeError):
        return set()
    marks = set()
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == "pytestmark" for t in node.targets
        ):
            for part in ast.walk(node.value):
                if (
                    isinstance(part, ast.Attribute)
                    and isinstance(part.value, ast.Attribute)
                    and part.value.attr == "mark"
                ):
                    marks.add(part.attr)
    return marks


def _registered(config) -> set[str]:
    return {
        line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")
    }


def selectable(config, marks: set[str]) -> bool:
    """Whether ``-m`` could select a test of a module with ``marks``, whatever marks
    its tests add."""
    text = config.getoption("markexpr")
    if not text or not marks:
        return True
    try:
        from _pytest.mark.expression import Expression

        expression = Expression.compile(text)
    except Exception:  # pytest's own check reports a bad expression
        return True
    others = sorted(_registered(config) - marks)
    for count in range(len(others) + 1):
        for extra in itertools.combinations(others, count):
            if expression.evaluate(_matcher(marks | set(extra))):
                return True
    return False


def _matcher(names: set[str]):
    return lambda name, /, **kwargs: name in names


def pytest_ignore_collect(collection_path: Path, config):
    if not (
        collection_path.name.startswith("test_") and collection_path.suffix == ".py"
    ):
        return None
    marks = module_marks(collection_path)
    if not selectable(config, marks):
        return True
    reasons = [why for mark in sorted(marks) if (why := missing(mark))]
    if reasons and not CI:
        _not_collected.setdefault("; ".join(reasons), []).append(collection_path.name)
        return True
    return None


def pytest_collection_modifyitems(config, items):
    if "slow" not in (config.getoption("markexpr") or ""):
        slow = [item for item in items if item.get_closest_marker("slow")]
        if slow:
            config.hook.pytest_deselected(items=slow)
            items[:] = [item for item in items if item not in slow]
    if CI:
        return
    for item in items:
        names = dict.fromkeys(mark.name for mark in item.iter_markers())
        reasons = [
            f"needs {name}: {why} ({INSTALL[name]})"
            for name in names
            if (why := missing(name))
        ]
        if reasons:
            item.add_marker(pytest.mark.skip(reason="; ".join(reasons)))


def pytest_terminal_summary(terminalreporter):
    for why, names in _not_collected.items():
        terminalreporter.write_line(
            f"not collected ({why}): {', '.join(sorted(names))}", yellow=True
        )


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A scratch project holding specs/cbam.yaml and specs/eca.yaml, as the working
    directory."""
    (tmp_path / "specs").mkdir()
    for name in ("cbam.yaml", "eca.yaml"):
        shutil.copy(ROOT / "specs" / name, tmp_path / "specs" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
