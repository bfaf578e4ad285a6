"""Shared test set-up. Tests run from the repository root, whatever directory pytest
was started in."""

import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.chdir(ROOT)


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A scratch project holding specs/cbam.yaml and specs/eca.yaml, as the working
    directory."""
    (tmp_path / "specs").mkdir()
    for name in ("cbam.yaml", "eca.yaml"):
        shutil.copy(ROOT / "specs" / name, tmp_path / "specs" / name)
    monkeypatch.chdir(tmp_path)
    return tmp_path
