"""Each bundled spec that mirrors a published module equals it, the module's weights
copied into the generated layer: on Keras 3 in both layouts, and on the tf_keras target
under TensorFlow 2.5.3 and tf-keras 2.21 (their runner compares with the module's
output). Max absolute error at most 1e-5 in float32, as measured by PyTorch's module in
float32; docs/family.md lists each module with the largest error measured here.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
import pytest
import yaml

from cbamgen import reference
from cbamgen.render import render_source

from .support import import_source, named_weights, spec_from_yaml

pytestmark = [pytest.mark.keras, pytest.mark.published]

torch = pytest.importorskip("torch")
published = pytest.importorskip("tests.published")

ROOT = Path(__file__).resolve().parent.parent
BOUND = 1e-5
#: (batch, channels, height, width): a square map and an oblong one, channel counts
#: where the width rules round differently (72 / 8 = 9 rounds to 8, below 0.9 * 9).
SHAPES = [(2, 48, 13, 13), (2, 72, 11, 17)]
MEASURED: dict[str, float] = {}


def spec_text(stem: str, changes: dict) -> str:
    """The bundled spec ``stem`` (or the one ``changes`` names), with keys changed."""
    data = yaml.safe_load(
        (ROOT / "specs" / f"{changes.get('stem', stem)}.yaml").read_text()
    )
    for path, value in changes.items():
        if path == "stem":
            continue
        *parents, key = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        node[key] = value
    return yaml.safe_dump(data, sort_keys=False)


def layer_of(text: str, data_format: str, target: str = "keras3", name: str = ""):
    """The spec and its layer's source; ``name`` added to the class name (Keras 2.5
    registers each class name once per process)."""
    spec = spec_from_yaml(text)
    spec = spec.model_copy(
        update={"data_format": data_format, "target": target, "name": spec.name + name}
    )
    return spec, render_source(spec, "specs/published.yaml")


def module_output(module, x: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return module(torch.from_numpy(x)).numpy()


def cases():
    for stem, (what, make, names, changes) in published.PUBLISHED.items():
        yield pytest.param(stem, what, make, names, changes, id=stem)


@pytest.mark.parametrize("stem, what, make, names, changes", cases())
def test_generated_layer_equals_the_published_module(stem, what, make, names, changes):
    rng = np.random.default_rng(len(stem))
    worst = 0.0
    for batch, channels, height, width in SHAPES:
        module = published.randomized(make(channels), seed=channels)
        weights = published.keras_weights(published._numpy(module), names)
        x = rng.normal(0.0, 1.0, (batch, channels, height, width)).astype(np.float32)
        expected = module_output(module, x)
        for data_format in ("channels_last", "channels_first"):
            spec, source = layer_of(spec_text(stem, changes), data_format)
            layer = getattr(import_source(source), spec.name)()
            inputs = x.transpose(0, 2, 3, 1) if data_format == "channels_last" else x
            layer.build(inputs.shape)
            assert sorted(named_weights(layer)) == sorted(weights), what
            for variable in layer.weights:
                name = variable.path.split("/", 1)[1]
                variable.assign(weights[name].astype(np.float32))
            y = np.asarray(layer(inputs, training=False))
            if data_format == "channels_last":
                y = y.transpose(0, 3, 1, 2)
            worst = max(worst, float(np.abs(y - expected).max()))
            # The reference agrees too: it was written from the papers, not from these.
            assert np.allclose(
                reference.forward(spec, weights, inputs),
                (
                    expected.transpose(0, 2, 3, 1)
                    if data_format == "channels_last"
                    else expected
                ),
                rtol=1e-4,
                atol=1e-4,
            )
    MEASURED[stem] = worst
    assert worst <= BOUND, f"{what}: max abs error {worst:.2e}"


# ------------------------------------------------------------------- tf_keras


@pytest.fixture(scope="module")
def tf_keras_cases(tmp_path_factory):
    """The tf_keras layers with the published modules' weights and outputs, for the
    tf_keras runner (tests/tf_keras_runner.py), which compares absolute errors."""
    folder = tmp_path_factory.mktemp("published_tf_keras")
    written = []
    rng = np.random.default_rng(0)
    batch, channels, height, width = SHAPES[1]
    for stem, (_, make, names, changes) in published.PUBLISHED.items():
        module = published.randomized(make(channels), seed=channels)
        weights = published.keras_weights(published._numpy(module), names)
        x = rng.normal(0.0, 1.0, (batch, channels, height, width)).astype(np.float32)
        expected = module_output(module, x)
        for data_format in ("channels_last", "channels_first"):
            case = f"{stem}_{data_format}"
            spec, source = layer_of(
                spec_text(stem, changes), data_format, "tf_keras", str(len(written))
            )
            (folder / f"{case}.py").write_text(source)
            last = data_format == "channels_last"
            inputs = x.transpose(0, 2, 3, 1) if last else x
            np.savez(
                folder / f"{case}.npz",
                x=inputs,
                expected=expected.transpose(0, 2, 3, 1) if last else expected,
                **{
                    f"g/{k}": v
                    for k, v in reference.gates(spec, weights, inputs).items()
                },
                **{f"w/{k}": v.astype(np.float32) for k, v in weights.items()},
            )
            written.append(
                {
                    "stem": case,
                    "class": spec.name,
                    "module": str(folder / f"{case}.py"),
                    "data": f"{case}.npz",
                    "seeded": False,
                    "absolute": True,
                }
            )
    (folder / "cases.json").write_text(json.dumps(written))
    return folder, written


@pytest.fixture(scope="module")
def runs(tf_keras_cases):
    """Both Keras 2 stacks at once, on the two cores (tests/test_tf_keras.py)."""
    from .test_tf_keras import started

    folder, _ = tf_keras_cases
    runs = started(folder, tflite=False)
    yield runs
    for run in runs.values():
        run.stop()


def check(results: list[dict], expected: list[dict], version: str) -> None:
    assert [r["stem"] for r in results] == [c["stem"] for c in expected]
    failures = [r for r in results if not r["ok"]]
    assert not failures, json.dumps(failures, indent=1)
    assert all(r["tensorflow"] == version for r in results)
    for result in results:
        stem = re.sub(r"_channels_(last|first)$", "", result["stem"])
        MEASURED[stem] = max(MEASURED.get(stem, 0.0), result["error"])


@pytest.mark.tf25
def test_tf_keras_layers_equal_the_published_modules_on_tensorflow_2_5(
    tf_keras_cases, runs
):
    _, expected = tf_keras_cases
    check(runs["2.5.3"].results(), expected, "2.5.3")


def test_tf_keras_layers_equal_the_published_modules_on_tf_keras_2_21(
    tf_keras_cases, runs
):
    pytest.importorskip("tf_keras")
    _, expected = tf_keras_cases
    check(runs["2.21.0"].results(), expected, "2.21.0")


# ----------------------------------------------------------------- the docs table


def documented() -> dict[str, float]:
    """docs/family.md's table: the bundled spec (first column) and the largest error
    (the last), per published module."""
    rows = {}
    for line in (ROOT / "docs" / "family.md").read_text().splitlines():
        cells = [c.strip() for c in line.strip("|").split("|")]
        match = (
            re.fullmatch(r"`(\w+)`(?: \+ .*)?", cells[0]) if len(cells) > 3 else None
        )
        bound = re.fullmatch(r"≤ ([0-9.]+e-[0-9]+)", cells[-1]) if match else None
        if bound:
            rows.setdefault(match.group(1), 0.0)
            rows[match.group(1)] = max(rows[match.group(1)], float(bound.group(1)))
    return rows


def test_docs_table_states_the_errors_measured_here():
    """Run last in this module: every module measured above is in the table with a
    bound at least the error measured (the table is written from these runs)."""
    if os.environ.get("PYTEST_XDIST_WORKER") or len(MEASURED) < len(
        published.PUBLISHED
    ):
        pytest.skip("needs the whole module's measurements in this process")
    table = documented()
    for stem, error in MEASURED.items():
        base = published.PUBLISHED[stem][3].get("stem", stem)
        assert base in table, f"docs/family.md has no row for {stem}"
        assert error <= table[base], f"{stem}: measured {error:.1e} > documented"
