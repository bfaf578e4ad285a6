"""Generated layers survive what training code does to a layer: SavedModel export,
XLA compilation, bfloat16 mixed precision, and multi-device distribution."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

from cbamgen.loader import load_spec

from .support import layer_for, spec_from_yaml
from .test_equivalence import BUNDLED, import_generated

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parent.parent


def bundled(stem: str, **kwargs):
    spec = load_spec(ROOT / "specs" / f"{stem}.yaml")
    module = import_generated(ROOT / "generated" / f"{stem}.py")
    return getattr(module, spec.name)(**kwargs)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_export_to_saved_model_serves_identical_outputs(path, tmp_path):
    layer = bundled(path.stem)
    inputs = keras.Input((None, None, 16))
    model = keras.Model(inputs, layer(inputs))
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 16)).astype(np.float32)
    model.export(str(tmp_path / "saved"), verbose=False)
    reloaded = tf.saved_model.load(
        str(tmp_path / "saved")
    )  # keep it: it owns variables
    served = reloaded.serve(x)
    np.testing.assert_allclose(
        np.asarray(served), np.asarray(model(x)), rtol=1e-6, atol=1e-6
    )


POOL_KINDS = [
    "avg",
    "max",
    "l2",
    "{type: lp, p: 3}",
    "{type: lse, normalize: sum}",
    "stochastic",
    "{type: stochastic, weights: softmax}",
    "gem",
    "{type: mixed, trainable: true}",
    "softpool",
]
XLA_SPECS = {
    "plain": f"""
cbamgen: 1
name: XlaPlain
channel: {{pools: [{", ".join(POOL_KINDS)}]}}
spatial: {{pools: [{", ".join(POOL_KINDS)}], norm: batch}}
gamma: {{mode: residual, init: 0.1}}
""",
    "windows": f"""
cbamgen: 1
name: XlaWindows
channel: {{pools: [avg, stochastic], excite: conv1d}}
spatial: {{pools: [{", ".join(f"{{type: {k.strip('{}').split(',')[0].replace('type: ', '')}, window: 3}}" for k in POOL_KINDS[:6])}]}}
fusion: mean
""",
}


@pytest.mark.parametrize("name", sorted(XLA_SPECS))
def test_fit_with_jit_compile_for_every_pool(name):
    layer = layer_for(spec_from_yaml(XLA_SPECS[name]), seed=3)
    inputs = keras.Input((8, 8, 12))
    outputs = keras.layers.GlobalAveragePooling2D()(layer(inputs))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mse", jit_compile=True)  # forced: CPU says no
    x = np.random.default_rng(1).normal(size=(8, 8, 8, 12)).astype(np.float32)
    history = model.fit(x, np.zeros((8, 12)), batch_size=4, epochs=2, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    forward = tf.function(lambda t: model(t, training=False), jit_compile=True)
    np.testing.assert_allclose(
        np.asarray(forward(x)), np.asarray(model(x)), rtol=1e-5, atol=1e-6
    )


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("magnitude", [1e-4, 1.0, 1e3])
def test_low_precision_policies_stay_finite(policy, magnitude):
    keras.mixed_precision.set_global_policy(policy)
    try:
        layer = layer_for(spec_from_yaml(XLA_SPECS["plain"]), seed=0)
        x = tf.cast(
            np.random.default_rng(0).normal(0, magnitude, (2, 16, 16, 8)),
            layer.compute_dtype,
        )
        for training in (False, True):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=training)
                loss = tf.reduce_mean(tf.cast(y, "float32"))
            assert y.dtype == layer.compute_dtype
            grads = tape.gradient(loss, [x, *layer.trainable_weights])
            assert np.all(np.isfinite(np.asarray(tf.cast(y, "float32"))))
            assert all(
                np.all(np.isfinite(np.asarray(tf.cast(g, "float32")))) for g in grads
            )
    finally:
        keras.mixed_precision.set_global_policy("float32")


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
def test_the_sampler_sees_float32_under_mixed_precision(policy, monkeypatch):
    """A float16 running sum stops at 2,048 (bfloat16: 256): the sampler must run on
    float32 even when the layer computes in half precision."""
    from cbamgen.render import render_source

    from .support import import_source

    keras.mixed_precision.set_global_policy(policy)
    try:
        spec = spec_from_yaml(
            "cbamgen: 1\nname: S\nchannel: {pools: [stochastic]}\n"
            "spatial: {pools: [stochastic]}\n"
        )
        module = import_source(render_source(spec, "s.yaml"))
        seen = []
        real = module._sample_2d  # both branches sample with it in training

        def spy(x, weights, *args):
            seen.append((x.dtype, weights.dtype))
            return real(x, weights, *args)

        monkeypatch.setattr(module, "_sample_2d", spy)
        layer = module.S(seed=0)
        y = layer(np.ones((1, 56, 56, 8), np.float32), training=True)
        dtype = keras.backend.standardize_dtype
        assert dtype(y.dtype) == layer.compute_dtype != "float32"
        assert len(seen) == 2
        assert all(dtype(d) == "float32" for pair in seen for d in pair)
    finally:
        keras.mixed_precision.set_global_policy("float32")


DISTRIBUTED = textwrap.dedent("""
    import sys
    import tensorflow as tf
    devices = tf.config.list_physical_devices("CPU")
    tf.config.set_logical_device_configuration(
        devices[0], [tf.config.LogicalDeviceConfiguration()] * 2)
    import numpy as np, keras
    sys.path.insert(0, sys.argv[1])
    from cbamgen.loader import load_spec_bytes
    from cbamgen.render import render_source
    from cbamgen.source_module import import_source
    spec = load_spec_bytes(sys.argv[2].encode(), "d.yaml")
    module = import_source(render_source(spec, "d.yaml"))
    strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
    with strategy.scope():
        inputs = keras.Input((8, 8, 12))
        outputs = keras.layers.GlobalAveragePooling2D()(module.Dist(seed=1)(inputs))
        model = keras.Model(inputs, outputs)
        model.compile(optimizer="adam", loss="mse", jit_compile=False)
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 12)).astype("float32")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, np.zeros((16, 12)), batch_size=8, epochs=2, verbose=0)
    assert strategy.num_replicas_in_sync == 2
    assert all(np.isfinite(history.history["loss"]))
    assert any(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    print("replicas", strategy.num_replicas_in_sync, "loss", history.history["loss"])
""")


def test_fit_under_mirrored_strategy_on_two_cpu_devices():
    spec = (
        "cbamgen: 1\nname: Dist\nchannel: {pools: [stochastic, gem, "
        "{type: mixed, trainable: true}]}\nspatial: {pools: [stochastic, l2], "
        "norm: batch}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", DISTRIBUTED, str(ROOT), spec],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "replicas 2" in result.stdout


@pytest.mark.parametrize("gamma", ["none", "blend", "residual"])
@pytest.mark.parametrize(
    "fusion", ["sequential", "spatial_first", "add", "multiply", "mean"]
)
def test_mixed_float16_outputs_and_every_gradient_stay_finite(fusion, gamma):
    """dL/dgamma, and dL/dgate for each gate, sum over the whole map: in float16 they
    overflowed (inf) once activations were a few hundred. A summed loss makes every
    gradient large."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        spec = spec_from_yaml(
            f"cbamgen: 1\nname: G\nchannel: {{pools: [avg, l2]}}\n"
            f"spatial: {{pools: [max, l2]}}\nfusion: {fusion}\n"
            + (
                "gamma: {mode: none}\n"
                if gamma == "none"
                else f"gamma: {{mode: {gamma}, init: 0.5}}\n"
            )
        )
        layer = layer_for(spec)
        noise = np.random.default_rng(0).normal(size=(2, 56, 56, 16))
        # multiply's output is quadratic in x: in float16 it overflows past |x| ~ 250.
        top = 30.0 if fusion == "multiply" else 1e3
        for scale in (s for s in (1e-4, 1e-2, 1.0, 30.0, 300.0, 1e3) if s <= top):
            x = tf.cast(noise * scale, "float16")
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, training=True)
                loss = tf.reduce_sum(tf.cast(y, "float32"))
            grads = tape.gradient(loss, [x, *layer.trainable_weights])
            values = [y, *grads]
            assert all(
                np.all(np.isfinite(np.asarray(tf.cast(v, "float32")))) for v in values
            ), (scale, [w.name for w in layer.trainable_weights])
    finally:
        keras.mixed_precision.set_global_policy("float32")
