"""The built wheel carries the templates: a non-editable install renders anywhere."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(out),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (built,) = out.glob("cbamgen-*.whl")
    return built


def test_wheel_contains_every_template(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    templates = {
        f"cbamgen/templates/{p.relative_to(ROOT / 'templates').as_posix()}"
        for p in (ROOT / "templates").rglob("*.j2")
    }
    assert templates and templates <= names


def test_installed_wheel_renders_from_any_directory(wheel, tmp_path):
    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    (work / "specs").mkdir(parents=True)
    (work / "specs" / "cbam.yaml").write_text(
        (ROOT / "specs" / "cbam.yaml").read_text()
    )
    # Only the installed copy is importable: the checkout is not on the path.
    env = {**os.environ, "PYTHONPATH": str(target)}
    result = subprocess.run(
        [sys.executable, "-m", "cbamgen", "render", "specs/cbam.yaml"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert (work / "generated" / "cbam.py").read_text() == (
        ROOT / "generated" / "cbam.py"
    ).read_text()
    helper = subprocess.run(
        [sys.executable, "-m", "cbamgen", "insert-helper"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert helper.returncode == 0, helper.stderr
    assert (work / "generated" / "insert_blocks.py").read_text() == (
        ROOT / "generated" / "insert_blocks.py"
    ).read_text()
    probe = subprocess.run(
        [sys.executable, "-c", "import cbamgen; print(cbamgen.__file__)"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert probe.stdout.startswith(str(target))
