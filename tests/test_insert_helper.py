"""insert_blocks.py as a generated file: rendered from one template for both targets,
standalone, with a header that check reads. (What it does to models: test_insert.py.)"""

from __future__ import annotations

from pathlib import Path

import pytest

from cbamgen import header
from cbamgen.insert_helper import FILE_NAME, render_insert_helper
from cbamgen.regenerate import findings

from .test_render import imported_modules

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = {
    "keras3": ROOT / "generated" / FILE_NAME,
    "tf_keras": ROOT / "generated" / "tf_keras" / FILE_NAME,
}
#: What each file may import: the standard library's pattern tools and its Keras.
IMPORTS = {
    "keras3": {"difflib", "fnmatch", "re", "keras"},
    "tf_keras": {"difflib", "fnmatch", "re", "tensorflow"},
}


@pytest.mark.parametrize("target", sorted(COMMITTED))
def test_the_committed_helpers_are_the_rendered_template(target):
    assert COMMITTED[target].read_text() == render_insert_helper(target), (
        "regenerate with: cbamgen insert-helper && "
        "cbamgen insert-helper -o generated/tf_keras --target tf_keras"
    )


@pytest.mark.parametrize("target", sorted(COMMITTED))
def test_the_helper_imports_only_its_keras(target):
    assert imported_modules(render_insert_helper(target)) == IMPORTS[target]


def test_the_tf_keras_helper_uses_no_keras_3_api():
    code = render_insert_helper("tf_keras")
    for keras3_only in ("keras.tree", "keras.saving", "node.operation", "arguments."):
        assert keras3_only not in code


@pytest.mark.parametrize("target", sorted(COMMITTED))
def test_the_header_names_the_command_and_target(target):
    text = render_insert_helper(target)
    found, body = header.read(text)
    assert (found.helper, found.target, found.spec) == ("insert-helper", target, None)
    assert found.digest == header.digest(body) and not header.edited(text)
    assert header.edited(text.replace("def insert_blocks(", "def insert_block("))


def test_a_helper_in_the_output_folder_is_no_orphan(tmp_path):
    (tmp_path / FILE_NAME).write_text(render_insert_helper())
    assert findings([], orphans_in=tmp_path, root=tmp_path) == []


@pytest.mark.keras
def test_cbamgen_insert_runs_the_keras_3_helper():
    import linecache

    from cbamgen import insert

    source = "".join(linecache.getlines(insert._module.__file__))
    assert source == COMMITTED["keras3"].read_text()
    assert insert.insert_blocks.__module__ == "cbamgen.insert"
    assert issubclass(insert.InsertError, ValueError)


@pytest.mark.parametrize("status", ["missing", "stale", "edited", "foreign"])
def test_check_compares_the_helper_like_a_generated_file(tmp_path, status):
    from cbamgen.insert_helper import rendered

    path = tmp_path / FILE_NAME
    text = render_insert_helper("keras3")
    if status == "stale":  # an older cbamgen's file: its digest matches its body
        old = header.read(text)[1].replace("InsertError", "InsertionError")
        path.write_text(header.attach_helper("insert-helper", "keras3", old))
    elif status == "edited":
        path.write_text(text.replace("InsertError", "InsertionError"))
    elif status == "foreign":
        path.write_text("def insert_blocks(model, block):\n    return model\n")
    found = findings([rendered(tmp_path, None)], orphans_in=tmp_path, root=tmp_path)
    assert [(f.path, f.status) for f in found] == [(path, status)]
    assert "(from cbamgen insert-helper)" in found[0].diff


def test_check_keeps_the_target_the_helper_was_written_for(tmp_path):
    from cbamgen.insert_helper import rendered

    (tmp_path / FILE_NAME).write_text(render_insert_helper("tf_keras"))
    assert findings([rendered(tmp_path, None)]) == []
    assert [f.status for f in findings([rendered(tmp_path, "keras3")])] == ["stale"]


def test_insert_helper_writes_the_file_and_guards_an_edited_one(project, capsys):
    from cbamgen.cli import main

    path = project / "generated" / FILE_NAME
    assert main(["insert-helper"]) == 0
    assert path.read_text() == render_insert_helper("keras3")
    assert main(["insert-helper"]) == 0
    assert "unchanged generated/insert_blocks.py" in capsys.readouterr().out
    path.write_text(path.read_text() + "# mine\n")
    assert main(["insert-helper"]) == 2
    assert "edited by hand" in capsys.readouterr().err
    assert path.read_text().endswith("# mine\n")
    assert main(["insert-helper", "--force", "--target", "tf_keras"]) == 0
    assert path.read_text() == render_insert_helper("tf_keras")
    assert main(["insert-helper", "-o", "other"]) == 0
    assert (project / "other" / FILE_NAME).read_text() == render_insert_helper()


def test_a_project_that_keeps_the_helper_renders_and_checks_it(project, capsys):
    from cbamgen.cli import main

    (project / "pyproject.toml").write_text(
        '[tool.cbamgen]\ninsert_helper = true\ntarget = "tf_keras"\n'
    )
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "generated/insert_blocks.py: missing; run: cbamgen insert-helper\n" in out
    assert main(["render"]) == 0
    assert "wrote generated/insert_blocks.py (from cbamgen insert-helper)" in (
        capsys.readouterr().out
    )
    assert (project / "generated" / FILE_NAME).read_text() == render_insert_helper(
        "tf_keras"
    )
    assert main(["check"]) == 0
    assert "3 generated file(s) up to date" in capsys.readouterr().out
    assert main(["check", "specs/cbam.yaml"]) == 0  # named specs: just those


def test_check_covers_a_helper_it_finds_in_the_output_folder(project, capsys):
    from cbamgen.cli import main

    assert main(["render"]) == 0 and main(["insert-helper"]) == 0
    path = project / "generated" / FILE_NAME
    path.write_text(path.read_text().replace("InsertError", "InsertionError"))
    assert main(["check"]) == 1
    out = capsys.readouterr().out
    assert "generated/insert_blocks.py: edited by hand" in out
    assert "(cbamgen insert-helper is the source)" in out
    assert "run: cbamgen insert-helper --force" in out
