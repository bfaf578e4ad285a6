"""The tf_keras target, run for real on the Keras 2 stacks it is for: TensorFlow 2.5.3
(Python 3.9, the question's own stack) and tf-keras 2.21 (TF_USE_LEGACY_KERAS=1).

This process renders the layers, draws inputs and weights and computes the NumPy
reference; tests/tf_keras_runner.py, run by the other Python, loads each generated file,
sets the weights by name and reports its error, an .h5 round trip and a fit step.
.ci/setup builds the TensorFlow 2.5.3 environment (.venv-tf25).
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from cbamgen import reference
from cbamgen.loader import load_spec
from cbamgen.render import render_source

from .needs import TF25
from .support import import_source, layer_files, randomize_weights, spec_from_yaml

ROOT = Path(__file__).resolve().parent.parent
RUNNER = ROOT / "tests" / "tf_keras_runner.py"

EXTRA = {
    # What the bundled specs do not exercise: channels_first (the conv is run
    # channels-last on CPU), every pool and window, conv1d on concatenated descriptors,
    # gelu/silu/tanh, hard sigmoid, every fusion and gamma mode.
    "first_everything": """
cbamgen: 1
name: FirstEverything
data_format: channels_first
channel: {pools: [avg, max, l2, {type: lp, p: 3, normalize: sum}, lse, stochastic,
                  gem, {type: mixed, trainable: true}, softpool], combine: concat,
          excite: conv1d, kernel_size: 3, gate: hard_sigmoid}
spatial: {pools: [{type: stochastic, window: 3}, {type: lse, r: 2, window: 3},
                  {type: gem, window: 3}, mixed, {type: stochastic, weights: softmax},
                  softpool], kernel_size: 5, dilation: 2, norm: batch}
fusion: multiply
gamma: {mode: residual, init: 0.5}
""",
    "last_activations": """
cbamgen: 1
name: LastActivations
channel: {pools: [{type: stochastic, weights: softmax}, l2], activation: gelu,
          reduction: 2}
spatial: {pools: [{type: l2, window: 5}, {type: max, window: 3}, avg],
          gate: hard_sigmoid}
fusion: spatial_first
gamma: {mode: blend, init: 0.3}
""",
    "big_windows": """
cbamgen: 1
name: BigWindows
data_format: channels_first
spatial: {pools: [{type: avg, window: 9}, {type: max, window: 7},
                  {type: softpool, window: 5}, {type: lp, p: 3, normalize: sum, window: 9}]}
""",
    "seeded": """
cbamgen: 1
name: Seeded
channel: {pools: [{type: stochastic, weights: softmax}, {type: stochastic, sampler: simple}]}
spatial: {pools: [stochastic, {type: stochastic, window: 3}]}
""",
    "silu_mean": """
cbamgen: 1
name: SiluMean
channel: {pools: [avg, max], activation: silu, excite: mlp, combine: concat}
spatial: {pools: [max, {type: lse, normalize: sum}]}
fusion: mean
""",
    "tanh_add_first": """
cbamgen: 1
name: TanhAddFirst
data_format: channels_first
channel: {pools: [avg], activation: tanh, rounding: nearest, divisor: 2}
spatial: {pools: [{type: softpool, window: 3}, avg], norm: batch}
fusion: add
""",
    # The family's parts, channels-first where it matters: attention pooling, the
    # mlp's norms, multiply_add, no pooling, the bottleneck, max and bam_product
    # fusions, extents, circular conv1d_mlp, the coordinate and energy branches
    # (a stochastic strip among them).
    "context_first": """
cbamgen: 1
name: ContextFirst
data_format: channels_first
channel: {pools: [attention, max], combine: concat, norm: batch, apply: multiply_add,
          activation: hard_swish, reduction: 4}
spatial: {pools: [none, {type: lp, window: 3}], excite: bottleneck, depth: 1, norm: batch,
          activation: silu, reduction: 4, kernel_size: 3, dilation: 2}
fusion: max
""",
    "extent_logits": """
cbamgen: 1
name: ExtentLogits
data_format: channels_first
channel: {pools: [mixed, max], extent: 3, excite: linear}
spatial: {pools: [avg, none], kernel_size: 3}
fusion: bam_product
gamma: {mode: residual, init: 0.5}
""",
    "ring_add": """
cbamgen: 1
name: RingAdd
channel: {pools: [avg, l2], excite: conv1d_mlp, padding: circular, kernel_size: 5,
          combine: concat, rounding: nearest, divisor: 2, round_limit: 0.9,
          reduction: 4, apply: add}
""",
    "strips_first": """
cbamgen: 1
name: StripsFirst
data_format: channels_first
coordinate: {pools: [stochastic], excite: shared, norm: layer, activation: tanh,
             join: add, reduction: 4}
""",
    "strips_group": """
cbamgen: 1
name: StripsGroup
coordinate: {pools: [{type: lse, r: 2}], excite: depthwise, norm: group, kernel_size: 3,
             activation: hard_swish}
""",
    "energy_first": """
cbamgen: 1
name: EnergyFirst
data_format: channels_first
energy: {lambda: 0.5, gate: hard_sigmoid}
gamma: {mode: blend, init: 0.5}
""",
}


def cases(folder: Path) -> list[dict]:
    """Write every case (module, inputs, weights, reference output) under folder."""
    specs = {
        p.stem: (
            load_spec(p),
            (ROOT / "generated" / "tf_keras" / p.name).with_suffix(".py"),
        )
        for p in sorted((ROOT / "specs").glob("*.yaml"))
    }
    for stem, text in EXTRA.items():
        spec = spec_from_yaml(text).model_copy(update={"target": "tf_keras"})
        path = folder / f"{stem}.py"
        path.write_text(render_source(spec, f"specs/{stem}.yaml"))
        specs[stem] = (spec, path)
    rng = np.random.default_rng(0)
    written = []
    for stem, (spec, module_path) in specs.items():
        # The keras3 layer has the same weight names and shapes: it draws the weights.
        keras3 = spec.model_copy(update={"target": "keras3"})
        layer = getattr(import_source(render_source(keras3, "x.yaml")), spec.name)()
        shape = (2, 7, 5, 12) if spec.data_format == "channels_last" else (2, 12, 7, 5)
        layer.build(shape)
        weights = randomize_weights(layer, rng)
        x = rng.normal(0.0, 2.0, shape).astype(np.float32)
        np.savez(
            folder / f"{stem}.npz",
            x=x,
            expected=reference.forward(spec, weights, x),
            **{f"g/{k}": v for k, v in reference.gates(spec, weights, x).items()},
            **{f"w/{k}": v for k, v in weights.items()},
        )
        written.append(
            {
                "stem": stem,
                "class": spec.name,
                "module": str(module_path),
                "data": f"{stem}.npz",
                "seeded": any(
                    pool.seeded
                    for branch in spec.branches().values()
                    for pool in getattr(branch, "pools", ())
                ),
            }
        )
    (folder / "cases.json").write_text(json.dumps(written))
    return written


@pytest.fixture(scope="module")
def prepared(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tf_keras")
    return folder, cases(folder)


class Run:
    """The runner started under another interpreter, in the background (the two Keras 2
    stacks run side by side on the two cores); ``results()`` waits for it."""

    def __init__(self, python: str, folder: Path, extra_env: dict):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **extra_env}
        self.process = subprocess.Popen(
            [python, str(RUNNER), str(folder)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    def results(self) -> list[dict]:
        stdout, stderr = self.process.communicate(timeout=900)
        assert self.process.returncode == 0, stderr[-3000:]
        return [
            json.loads(line) for line in stdout.splitlines() if line.startswith("{")
        ]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate()


def started(folder: Path, tflite: bool) -> dict[str, Run]:
    """The runners this machine can start: TensorFlow 2.5.3 (``tflite``: converting
    each model to TensorFlow Lite there) and tf-keras 2.21."""
    runs = {}
    if TF25.exists():
        runs["2.5.3"] = Run(
            str(TF25), folder, {"CBAMGEN_TFLITE": "1"} if tflite else {}
        )
    if importlib.util.find_spec("tf_keras") is not None:
        runs["2.21.0"] = Run(sys.executable, folder, {"TF_USE_LEGACY_KERAS": "1"})
    return runs


@pytest.fixture(scope="module")
def runs(prepared):
    folder, _ = prepared
    runs = started(folder, tflite=True)
    yield runs
    for run in runs.values():
        run.stop()


def check(results: list[dict], expected: list[dict], version: str):
    assert [r["stem"] for r in results] == [c["stem"] for c in expected]
    failures = [r for r in results if not r["ok"]]
    assert not failures, json.dumps(failures, indent=1)
    assert all(r["tensorflow"] == version for r in results)


@pytest.mark.keras
@pytest.mark.tf25
def test_tensorflow_2_5(prepared, runs):
    """The files run on TensorFlow 2.5.3, and convert to TensorFlow Lite there."""
    folder, expected = prepared
    results = runs["2.5.3"].results()
    check(results, expected, "2.5.3")
    lite = {r["stem"]: (r["tflite_error"], r["tflite_needs_flex"]) for r in results}
    assert all(error <= 1e-5 for error, _ in lite.values())
    # Every bundled block converts to builtin ops. TensorFlow 2.5's TFLite lacks two
    # ops some features use (the README's "Deploying" names them): reduce_all
    # (the underflow guard of lse, lp and gem window pools) and erf (gelu).
    bundled = [p.stem for p in (ROOT / "specs").glob("*.yaml")]
    assert all(lite[stem][1] == [] for stem in bundled)
    assert {stem: flex for stem, (_, flex) in lite.items() if flex} == {
        "first_everything": ["All"],
        "last_activations": ["Erf"],
        "big_windows": ["All"],
        "tanh_add_first": ["All"],
    }


@pytest.mark.keras
def test_tf_keras_2_21_legacy(prepared, runs):
    try:
        import tf_keras  # noqa: F401
    except ImportError:
        if os.environ.get("CI"):
            pytest.fail("tf-keras is not installed: .ci/setup installs it")
        pytest.skip("tf-keras is not installed (bash .ci/setup)")
    folder, expected = prepared
    check(runs["2.21.0"].results(), expected, "2.21.0")


def test_hard_sigmoid_is_spelled_out_for_keras_2():
    source = (ROOT / "generated" / "tf_keras" / "ese.py").read_text()
    assert "tf.clip_by_value(logits / 6.0 + 0.5, 0.0, 1.0)" in source
    assert "hard_sigmoid(" not in source.split('"""', 2)[2]  # not in the code


def test_tf_keras_files_use_only_tensorflow_2_5_apis():
    for path in layer_files(ROOT / "generated" / "tf_keras"):
        code = path.read_text().split('"""', 2)[2]
        lines = code.splitlines()
        assert "import keras" not in lines and "from keras import ops" not in lines
        assert "keras.saving" not in code and "SeedGenerator" not in code
        assert "keras.utils.register_keras_serializable" in code
        assert "take_along_axis(" not in code  # not in TensorFlow 2.5
