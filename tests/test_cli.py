"""The command line: what it writes, what it refuses, exit codes, no tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from cbamgen.cli import main

ROOT = Path(__file__).resolve().parent.parent


BAD = "cbamgen: 1\nname: Bad\nchannel:\n  pools: [l2, stocastic]\n"


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "cbamgen", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
    )


def test_render_writes_generated_name_py(project, capsys):
    assert main(["render", "specs/eca.yaml"]) == 0
    written = project / "generated" / "eca.py"
    assert written.read_text() == (ROOT / "generated" / "eca.py").read_text()
    assert "wrote generated/eca.py" in capsys.readouterr().out


def test_render_to_another_directory(project):
    assert main(["render", "specs/cbam.yaml", "-o", "out/layers"]) == 0
    assert (project / "out" / "layers" / "cbam.py").is_file()


def test_a_bad_spec_writes_nothing_at_all_and_exits_2(project):
    (project / "specs" / "bad.yaml").write_text(BAD)
    result = run("render", "specs/cbam.yaml", "specs/bad.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "specs/bad.yaml:4:15: channel.pools[1]: unknown pool 'stocastic' (did you mean "
        "'stochastic'?)"
    )
    assert "Traceback" not in result.stderr
    assert not (project / "generated").exists()


def test_validate_reports_ok_and_writes_nothing(project):
    result = run("validate", "specs/cbam.yaml", cwd=project)
    assert result.returncode == 0 and result.stdout == "specs/cbam.yaml: ok\n"
    assert not (project / "generated").exists()


def test_validate_bad_spec_exit_2(project):
    (project / "specs" / "bad.yaml").write_text(BAD)
    result = run("validate", "specs/bad.yaml", cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_check_is_clean_after_render_and_reports_stale_files(project, capsys):
    assert main(["render", "specs/cbam.yaml", "specs/eca.yaml"]) == 0
    assert main(["check"]) == 0
    generated = project / "generated" / "cbam.py"
    generated.write_text(generated.read_text().replace("reduction=16", "reduction=8"))
    capsys.readouterr()
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "generated/cbam.py: out of date; run: cbamgen render specs/cbam.yaml" in out
    assert "-        reduction=8," in out and "+        reduction=16," in out
    assert "reduction=8" in generated.read_text()  # check never writes


def test_check_reports_missing_files(project, capsys):
    assert main(["check", "specs/cbam.yaml"]) == 1
    assert "generated/cbam.py: missing" in capsys.readouterr().out


def test_spec_whose_stem_is_not_a_module_name(project):
    shutil.copy(project / "specs" / "cbam.yaml", project / "specs" / "my-block.yaml")
    result = run("render", "specs/my-block.yaml", cwd=project)
    assert result.returncode == 2
    assert (
        "specs/my-block.yaml:1:1: (root): the output module would be 'my-block.py'"
        in result.stderr
    )


def test_missing_spec_file_is_exit_2_without_traceback(project):
    result = run("render", "specs/nope.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stderr.startswith("specs/nope.yaml:1:1: (root): cannot read the spec")


def test_usage_errors_exit_2(project):
    assert run("render", cwd=project).returncode == 2
    assert run("frobnicate", cwd=project).returncode == 2


def test_version_and_help(project):
    assert run("--version", cwd=project).stdout.startswith("cbamgen ")
    help_text = run("--help", cwd=project).stdout
    assert "render" in help_text and "Exit codes" in help_text


def test_unwritable_output_is_a_clean_error(project):
    (project / "generated").write_text("a file where a directory should be")
    result = run("render", "specs/cbam.yaml", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "cbamgen: cannot write generated/cbam.py: generated is a file, not a directory; "
        "no file was changed\n"
    )
    assert "Traceback" not in result.stderr
