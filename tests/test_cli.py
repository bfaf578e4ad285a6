"""The command line: what it writes, what it refuses, exit codes, no tracebacks."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_written_files_get_the_permissions_of_any_new_file(project):
    """Staged in a temporary file, which is private (0600) until made otherwise: a
    generated layer must be readable like any file the user's umask allows."""
    import os

    umask = os.umask(0o022)
    try:
        assert main(["render", "specs/eca.yaml"]) == 0
    finally:
        os.umask(umask)
    assert (project / "generated" / "eca.py").stat().st_mode & 0o777 == 0o644


def test_check_without_specs_takes_yml_files_too(project, capsys):
    shutil.move(project / "specs" / "eca.yaml", project / "specs" / "eca.yml")
    assert main(["check"]) == 1
    assert "generated/eca.py: missing; run: cbamgen render specs/eca.yml" in (
        capsys.readouterr().out
    )


@pytest.mark.parametrize("command", ["verify", "bench"])
def test_commands_that_run_layers_say_what_to_install(
    project, monkeypatch, capsys, command
):
    import importlib.util

    find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "keras" else find_spec(name, *a),
    )
    assert main([command, "specs/eca.yaml"]) == 2
    err = capsys.readouterr().err
    assert "needs Keras 3" in err and "pip install tensorflow-cpu" in err


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


def edit_spec(project: Path, old: str, new: str) -> None:
    spec = project / "specs" / "cbam.yaml"
    spec.write_text(spec.read_text().replace(old, new))


def test_check_is_clean_after_render_and_reports_stale_files(project, capsys):
    assert main(["render", "specs/cbam.yaml", "specs/eca.yaml"]) == 0
    assert main(["check"]) == 0
    edit_spec(project, "reduction: 16", "reduction: 8")
    before = (project / "generated" / "cbam.py").read_text()
    capsys.readouterr()
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "generated/cbam.py: out of date; run: cbamgen render specs/cbam.yaml" in out
    assert "reduction=16" in out and "reduction=8" in out  # the diff
    assert (project / "generated" / "cbam.py").read_text() == before  # never writes


def test_check_hints_repeat_the_options_they_need(project, capsys):
    options = ["-o", "out/tf", "--target", "tf_keras"]
    assert main(["render", *options, "specs/cbam.yaml", "specs/eca.yaml"]) == 0
    edit_spec(project, "reduction: 16", "reduction: 8")
    capsys.readouterr()
    assert main(["check", *options]) == 1
    hint = "run: cbamgen render -o out/tf --target tf_keras specs/cbam.yaml"
    assert hint in capsys.readouterr().out
    assert main(hint.removeprefix("run: cbamgen ").split()) == 0  # followed literally
    assert main(["check", *options]) == 0
    assert not (project / "generated").exists()


def test_check_says_when_a_file_was_edited_by_hand_and_names_force(project, capsys):
    assert main(["render", "-o", "out", "specs/cbam.yaml"]) == 0
    generated = project / "out" / "cbam.py"
    generated.write_text(generated.read_text().replace("reduction=16", "reduction=8"))
    capsys.readouterr()
    assert main(["check", "-o", "out", "specs/cbam.yaml"]) == 1
    assert (
        "out/cbam.py: edited by hand since cbamgen generated it; keep your changes "
        "elsewhere (the spec is the source), then run: cbamgen render -o out "
        "specs/cbam.yaml --force"
    ) in capsys.readouterr().out
    generated.write_text("# my own module\n")
    assert main(["check", "-o", "out", "specs/cbam.yaml"]) == 1
    assert "out/cbam.py: not generated by cbamgen" in capsys.readouterr().out


def test_a_file_that_is_not_a_spec_is_named_as_such(project):
    (project / "generated").mkdir()
    shutil.copy(ROOT / "generated" / "cbam.py", project / "generated" / "cbam.py")
    result = run("validate", "generated/cbam.py", cwd=project)
    assert result.returncode == 2
    assert result.stderr == (
        "generated/cbam.py:1:1: (root): not a spec: cbamgen reads YAML specs, files "
        "ending in .yaml; a generated layer is rendered from its spec, e.g. "
        "specs/cbam.yaml (its first line names it)\n"
    )


PYPROJECT = """
[project]
name = "my-model"

[tool.cbamgen]
specs = "model/specs"
output = "model/blocks"
target = "tf_keras"
"""


def make_configured_project(project: Path) -> Path:
    (project / "pyproject.toml").write_text(PYPROJECT)
    (project / "model").mkdir()
    (project / "specs").rename(project / "model" / "specs")
    return project / "model"


def test_project_settings_come_from_pyproject(project, capsys):
    model = make_configured_project(project)
    assert main(["render", "model/specs/cbam.yaml"]) == 0
    written = (model / "blocks" / "cbam.py").read_text()
    assert "from tensorflow import keras" in written  # target = "tf_keras"
    assert main(["render", "model/specs/eca.yaml"]) == 0
    assert main(["check"]) == 0  # no arguments: every spec in model/specs
    assert "2 generated file(s) up to date" in capsys.readouterr().out
    # Flags override the settings.
    assert (
        main(
            ["render", "-o", "elsewhere", "--target", "keras3", "model/specs/cbam.yaml"]
        )
        == 0
    )
    assert "import keras" in (project / "elsewhere" / "cbam.py").read_text()


def test_project_settings_are_found_from_a_subfolder(project, monkeypatch, capsys):
    model = make_configured_project(project)
    monkeypatch.chdir(model / "specs")
    assert main(["render", "cbam.yaml"]) == 0
    written = (model / "blocks" / "cbam.py").read_text()
    # The header names the spec from the project's folder, wherever cbamgen ran.
    assert written.startswith("# Generated by cbamgen from model/specs/cbam.yaml;")
    monkeypatch.chdir(project)
    assert main(["render", "model/specs/cbam.yaml"]) == 0
    assert (model / "blocks" / "cbam.py").read_text() == written
    monkeypatch.chdir(model)
    assert main(["check"]) == 1  # eca is missing: check found the specs folder
    assert "eca.py: missing" in capsys.readouterr().out


@pytest.mark.parametrize(
    "table, message",
    [
        (
            'outptu = "x"',
            "unknown key 'outptu' (did you mean 'output'?); keys: specs, output, "
            "target, insert_helper",
        ),
        (
            'target = "keras2"',
            "target 'keras2' is not one of keras3, tf_keras (did you mean 'keras3'?)",
        ),
        ("output = 3", "'output' must be a non-empty string, got 3"),
        ('insert_helper = "yes"', "'insert_helper' must be true or false, got 'yes'"),
    ],
)
def test_bad_project_settings_are_clear_errors(project, table, message):
    (project / "pyproject.toml").write_text(f"[tool.cbamgen]\n{table}\n")
    result = run("check", cwd=project)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert (
        result.stderr
        == f"cbamgen: {project / 'pyproject.toml'}: [tool.cbamgen]: {message}\n"
    )


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
    assert run("render", "--check", "--diff", cwd=project).returncode == 2
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


def test_render_and_validate_without_specs_take_the_projects_specs_folder(
    project, capsys
):
    model = make_configured_project(project)
    assert main(["render"]) == 0
    assert sorted(p.name for p in (model / "blocks").iterdir()) == [
        "cbam.py",
        "eca.py",
    ]
    assert "wrote model/blocks/eca.py (from model/specs/eca.yaml)" in (
        capsys.readouterr().out
    )
    assert main(["check"]) == 0
    assert main(["validate"]) == 0
    assert capsys.readouterr().out.endswith(
        "model/specs/cbam.yaml: ok\nmodel/specs/eca.yaml: ok\n"
    )


def test_render_without_specs_and_without_settings_takes_specs_folder(project):
    assert main(["render"]) == 0
    for name in ("cbam.py", "eca.py"):
        rendered = (project / "generated" / name).read_text()
        assert rendered == (ROOT / "generated" / name).read_text()


def test_render_says_unchanged_and_leaves_up_to_date_files_alone(project, capsys):
    import os

    assert main(["render", "specs/cbam.yaml"]) == 0
    cbam = project / "generated" / "cbam.py"
    os.utime(cbam, ns=(10**9, 10**9))
    capsys.readouterr()
    assert main(["render", "specs/cbam.yaml", "specs/eca.yaml"]) == 0
    assert capsys.readouterr().out == (
        "unchanged generated/cbam.py (from specs/cbam.yaml)\n"
        "wrote generated/eca.py (from specs/eca.yaml)\n"
    )
    assert cbam.stat().st_mtime_ns == 10**9  # not rewritten


def test_the_default_target_written_out_changes_no_byte(project, capsys):
    expected = (ROOT / "generated" / "eca.py").read_text()
    assert main(["render", "--target", "keras3", "specs/eca.yaml"]) == 0
    assert (project / "generated" / "eca.py").read_text() == expected
    (project / "pyproject.toml").write_text('[tool.cbamgen]\ntarget = "keras3"\n')
    assert main(["check", "specs/eca.yaml"]) == 0
    # A spec for tf_keras rendered for the default target: as if it named none.
    spec = project / "specs" / "eca.yaml"
    assert main(["render", "-o", "plain", "specs/eca.yaml"]) == 0
    spec.write_text(spec.read_text() + "target: tf_keras\n")
    assert main(["render", "-o", "moved", "--target", "keras3", "specs/eca.yaml"]) == 0
    moved = (project / "moved" / "eca.py").read_text()
    assert moved == (project / "plain" / "eca.py").read_text()
    assert "target:" not in moved
