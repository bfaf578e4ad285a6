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
    for command, written in (
        (["render", "specs/cbam.yaml"], "cbam.py"),
        (["insert-helper"], "insert_blocks.py"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "cbamgen", *command],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
        )
        assert result.returncode == 0, result.stderr
        assert (work / "generated" / written).read_text() == (
            ROOT / "generated" / written
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
