"""Hostile specs and inputs: located errors, no tracebacks, no injection, no data loss.

The corpus under tests/bad_specs/ pairs each bad spec with the report a user gets
(expected.txt; each entry was read and judged when it was added: it must say where,
what, and how to fix it).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbamgen import writer
from cbamgen.cli import main
from cbamgen.errors import SpecError
from cbamgen.loader import load_spec, load_spec_bytes
from cbamgen.render import render_source

from .strategies import specs
from .support import import_source, layer_for, spec_from_yaml

CORPUS = Path(__file__).parent / "bad_specs"


def expected_reports() -> dict[str, str]:
    text = (CORPUS / "expected.txt").read_text(encoding="utf-8")
    entries = {}
    for block in text.split("== ")[1:]:
        name, _, report = block.partition("\n")
        entries[name] = report.rstrip("\n")
    return entries


EXPECTED = expected_reports()


def test_corpus_has_fifty_cases_each_with_its_report():
    files = {p.stem for p in CORPUS.glob("*.yaml")}
    assert len(files) >= 50 and files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_bad_spec_gives_its_located_report(name):
    with pytest.raises(SpecError) as info:
        load_spec(CORPUS / f"{name}.yaml", display_name=f"{name}.yaml")
    assert info.value.report() == EXPECTED[name]
    for line in EXPECTED[name].splitlines():
        file_line_col = line.split(": ", 1)[0]
        assert file_line_col.count(":") == 2, line  # file:line:col on every line


def test_cli_on_the_whole_corpus_exit_2_no_traceback_nothing_written(tmp_path):
    out = tmp_path / "out"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "cbamgen",
            "render",
            "-o",
            str(out),
            *sorted(str(p) for p in CORPUS.glob("*.yaml")),
            "specs/cbam.yaml",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not out.exists()
    assert result.stderr.count("tests/bad_specs/") >= len(EXPECTED)


def report(raw: bytes) -> str:
    with pytest.raises(SpecError) as info:
        load_spec_bytes(raw, "x.yaml")
    return info.value.report()


def test_twenty_megabyte_file_is_refused_unread(tmp_path):
    big = tmp_path / "big.yaml"
    big.write_bytes(b"cbamgen: 1\nname: B\n" + b"# padding\n" * 2_000_000)
    with pytest.raises(SpecError) as info:
        load_spec(big, display_name="big.yaml")
    assert info.value.report() == (
        "big.yaml:1:1: (root): the file is over 1,000,000 bytes, more than a spec can be;"
        " is this the right file?"
    )


@pytest.mark.parametrize("depth", [30, 5000])
def test_deep_nesting_is_refused(depth):
    raw = ("cbamgen: 1\nname: B\nchannel: " + "[" * depth + "]" * depth + "\n").encode()
    assert "nested too deeply" in report(raw)


def test_alias_expansion_is_bounded():
    lines = ["cbamgen: 1", "name: B", "a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [
        f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)
    ]
    assert "too many YAML nodes (over 10,000)" in report("\n".join(lines).encode())


def test_non_utf8_nul_and_bom_inputs():
    assert report(b"cbamgen: 1\nname: \xff\n") == (
        "x.yaml:2:7: (root): byte 0xff is not UTF-8; save the spec as UTF-8"
    )
    assert report(b"cbamgen: 1\nname: B\x00\n") == (
        "x.yaml:2:8: (root): character U+0000 is not allowed in YAML; remove it (write "
        "it as an escape such as \\x00 inside double quotes)"
    )
    assert report(b"\xef\xbb\xbfcbamgen: 1\nname: b\nchannel: {}\n").startswith(
        "x.yaml:2:7: name: 'b' is not a CapWords"
    )


SENTINEL = "CBAMGEN_INJECTED"
HOSTILE_TEXTS = [
    '"""; import os; os.environ["' + SENTINEL + '"] = "1"; """',
    "\\\"\"\" + __import__('os').environ.setdefault('"
    + SENTINEL
    + "', '1') + \"\"\"\\",
    "{{ 7 * 7 }} {% for x in range(3) %}{{ x }}{% endfor %} {# c #}",
    "ends with a backslash \\",
    'ends with a quote "',
    "nul \x00 bell \x07 escape \x1b delete \x7f line-separator \u2028 done",
    '"""""""""',
]


@pytest.mark.keras
@pytest.mark.parametrize("text", HOSTILE_TEXTS)
def test_description_never_becomes_code(text, monkeypatch):
    monkeypatch.delenv(SENTINEL, raising=False)
    spec = spec_from_yaml(
        yaml.safe_dump(
            {"cbamgen": 1, "name": "Safe", "description": text, "channel": {}}
        )
    )
    source = render_source(spec, "specs/safe.yaml")
    tree = ast.parse(source)
    assert [type(n).__name__ for n in tree.body] == [
        "Expr",
        "Import",
        "ImportFrom",
        "ClassDef",
    ]
    assert text.strip() in ast.get_docstring(tree)
    module = import_source(source)
    assert SENTINEL not in os.environ
    assert {n for n in vars(module) if not n.startswith("__")} == {
        "keras",
        "ops",
        "Safe",
    }


# ------------------------------------------------------------------------ fuzzing

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.sampled_from(["avg", "l2", "stochastic", "sum", "batch", "1e-5", "adaptive"]),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
)


@st.composite
def mutated(draw):
    spec = draw(specs())
    for _ in range(draw(st.integers(1, 4))):
        target = spec
        path = []
        while isinstance(target, dict | list) and target and draw(st.booleans()):
            key = draw(
                st.sampled_from(
                    list(target)
                    if isinstance(target, dict)
                    else list(range(len(target)))
                )
            )
            path.append((target, key))
            target = target[key]
        if not path:
            parent, key = spec, draw(st.sampled_from(list(spec) + ["extra"]))
        else:
            parent, key = path[-1]
        action = draw(st.sampled_from(["drop", "retype", "insert"]))
        if action == "drop" and isinstance(parent, dict):
            parent.pop(key, None)
        elif action == "insert" and isinstance(parent, dict):
            parent[draw(st.text(min_size=1, max_size=8))] = draw(SCALARS)
        elif isinstance(parent, dict) or (
            isinstance(parent, list) and key < len(parent)
        ):
            parent[key] = draw(SCALARS)
    return spec


def fuzz_once(spec_dict) -> None:
    text = yaml.safe_dump(spec_dict, allow_unicode=True)
    try:
        spec = load_spec_bytes(text.encode(), "fuzz.yaml")
    except SpecError as exc:
        for line in exc.report().splitlines():
            assert line.startswith("fuzz.yaml:") and line.count(": ") >= 2, line
        return
    ast.parse(render_source(spec, "fuzz.yaml"))  # a spec that loads always renders


def fuzz_settings(examples: int, derandomize: bool = True) -> settings:
    return settings(
        deadline=None,
        derandomize=derandomize,
        max_examples=examples,
        suppress_health_check=list(HealthCheck),
    )


@fuzz_settings(300)
@given(mutated())
def test_loader_returns_a_spec_or_a_located_error(spec_dict):
    fuzz_once(spec_dict)


@pytest.mark.slow
@fuzz_settings(5000, derandomize=False)
@given(mutated())
def test_loader_fuzz_long(spec_dict):
    fuzz_once(spec_dict)


@fuzz_settings(200)
@given(st.binary(max_size=300))
def test_loader_survives_arbitrary_bytes(raw):
    try:
        load_spec_bytes(raw, "bytes.yaml")
    except SpecError as exc:
        assert all(line.startswith("bytes.yaml:") for line in exc.report().splitlines())


# ------------------------------------------------------------ numeric robustness

POOL_LIST = (
    "[avg, max, l2, {type: lp, p: 3}, {type: lse, r: 4}, stochastic, "
    "{type: stochastic, weights: softmax}, gem, {type: mixed, trainable: true}, "
    "softpool]"
)
ROBUST_SPECS = {excite: f"""
cbamgen: 1
name: Robust
channel: {{pools: {POOL_LIST}, excite: {excite}}}
spatial:
  pools: {POOL_LIST[:-1]}, {{type: l2, window: 3}}, {{type: stochastic, window: 3}},
          {{type: lse, normalize: sum, window: 3}}, {{type: gem, window: 3}}]
  norm: batch
fusion: mean
gamma: {{mode: residual, init: 0.5}}
""" for excite in ("mlp", "linear", "conv1d")}
INPUTS = {
    "zeros": lambda rng, shape: np.zeros(shape),
    "negative": lambda rng, shape: -np.abs(rng.normal(size=shape)) - 0.1,
    "tiny": lambda rng, shape: rng.normal(0, 1e-6, shape),
    "huge": lambda rng, shape: rng.normal(0, 1e4, shape),
}
SHAPES = {
    "single_pixel": (2, 1, 1, 5),
    "one_channel": (2, 6, 5, 1),
    "small": (2, 5, 4, 6),
}


@pytest.mark.keras
@pytest.mark.parametrize("precision", ["float32", "mixed_float16"])
@pytest.mark.parametrize("excite", sorted(ROBUST_SPECS))
def test_outputs_and_gradients_stay_finite(precision, excite):
    import keras
    import tensorflow as tf

    keras.mixed_precision.set_global_policy(precision)
    try:
        rng = np.random.default_rng(0)
        spec = spec_from_yaml(ROBUST_SPECS[excite])
        cls = type(layer_for(spec))  # rendered once; a fresh layer per input shape
        for (input_name, make), (shape_name, shape) in (
            (i, s) for i in INPUTS.items() for s in SHAPES.items()
        ):
            layer = cls(seed=1)
            dtype = "float16" if precision == "mixed_float16" else "float32"
            x = tf.constant(make(rng, shape), dtype=dtype)
            for training in (False, True):
                with tf.GradientTape() as tape:
                    tape.watch(x)
                    loss = tf.reduce_mean(
                        tf.cast(layer(x, training=training), "float32")
                    )
                grads = tape.gradient(loss, [x, *layer.trainable_weights])
                label = (input_name, shape_name, training)
                assert np.isfinite(float(loss)), label
                assert all(np.all(np.isfinite(np.asarray(g))) for g in grads), label
    finally:
        keras.mixed_precision.set_global_policy("float32")


# ------------------------------------------------------------ file-system faults


def test_dangling_symlink_output_is_refused(project, capsys):
    (project / "generated").mkdir()
    (project / "generated" / "cbam.py").symlink_to(project / "nowhere.py")
    assert main(["render", "specs/cbam.yaml"]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert not (project / "nowhere.py").exists()


def test_output_path_that_is_a_directory_is_refused(project, capsys):
    (project / "generated" / "cbam.py").mkdir(parents=True)
    assert main(["render", "specs/cbam.yaml"]) == 2
    assert "generated/cbam.py: is a directory" in capsys.readouterr().err


def test_read_only_directory_is_a_clean_error(project, monkeypatch, capsys):
    # Tests run as root here, where chmod does not stop writes: simulate the refusal.
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(writer.tempfile, "mkstemp", refuse)
    assert main(["render", "specs/cbam.yaml"]) == 2
    err = capsys.readouterr().err
    assert (
        err == "cbamgen: cannot write generated/cbam.py: Permission denied; no file "
        "was changed\n"
    )


def test_crash_between_render_and_write_leaves_old_files_and_no_partial_file(
    project, monkeypatch
):
    assert main(["render", "specs/cbam.yaml", "specs/eca.yaml"]) == 0
    before = {p.name: p.read_text() for p in (project / "generated").iterdir()}
    for name in ("cbam.yaml", "eca.yaml"):
        path = project / "specs" / name
        data = yaml.safe_load(path.read_text())
        path.write_text(yaml.safe_dump({**data, "description": "version 2"}))
    real_replace = writer.os.replace

    def crash_on_second(src, dst):
        if Path(dst).name == "eca.py":
            raise KeyboardInterrupt  # as if the process were stopped mid-write
        real_replace(src, dst)

    monkeypatch.setattr(writer.os, "replace", crash_on_second)
    with pytest.raises(KeyboardInterrupt):
        main(["render", "specs/cbam.yaml", "specs/eca.yaml"])
    after = {p.name: p.read_text() for p in (project / "generated").iterdir()}
    assert set(after) == {"cbam.py", "eca.py"}  # no temporary file left behind
    assert after["eca.py"] == before["eca.py"]  # untouched: complete old version
    assert after["cbam.py"].startswith("# Generated by cbamgen")  # complete new version
    ast.parse(after["cbam.py"])
