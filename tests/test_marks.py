"""Every test module that imports what a mark stands for carries that mark, so that
``pytest -m "not keras"`` never imports Keras and runs without it (tests/conftest.py).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from .conftest import module_marks

TESTS = Path(__file__).resolve().parent
#: Top-level imports that need a mark's packages.
NEEDS = {
    "keras": "keras",
    "tensorflow": "keras",
    "tf_keras": "keras",
    "jax": "backends",
    "torch": "backends",
    "keras_tuner": "compare",
    "matplotlib": "compare",
    "sklearn": "compare",
    "scipy": "compare",
    "tqdm": "compare",
    "cbamgen.compare": "compare",
    "onnx": "deploy",
    "onnxruntime": "deploy",
    "tf2onnx": "deploy",
    "ai_edge_litert": "deploy",
}


def top_level_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def needed_marks(path: Path) -> set[str]:
    return {
        mark
        for name in top_level_imports(path)
        for prefix, mark in NEEDS.items()
        if name == prefix or name.startswith(prefix + ".")
    }


@pytest.mark.parametrize("path", sorted(TESTS.glob("test_*.py")), ids=lambda p: p.name)
def test_a_module_that_imports_a_requirement_carries_its_mark(path):
    assert needed_marks(path) <= module_marks(path), (
        f"{path.name}: add pytestmark = [pytest.mark.NAME, ...] for "
        f"{sorted(needed_marks(path) - module_marks(path))}"
    )


def test_marks_are_read_without_importing_the_module(tmp_path):
    module = tmp_path / "test_x.py"
    module.write_text(
        "import pytest\nimport not_installed\n\n"
        "pytestmark = [pytest.mark.keras, pytest.mark.compare]\n"
    )
    assert module_marks(module) == {"keras", "compare"}
    assert needed_marks(module) == set()
