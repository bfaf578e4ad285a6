"""Generated layers behave as Keras layers: config, saving, shapes, dtypes, training."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from cbamgen import reference
from cbamgen.loader import load_spec

from .support import layer_for, named_weights, spec_from_yaml
from .test_equivalence import BUNDLED, import_generated

pytestmark = pytest.mark.keras

EXPECTED_WEIGHTS = {
    "cbam": {"channel_hidden/kernel", "channel_out/kernel", "spatial_conv/kernel"},
    "cbam_official": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
        "spatial_conv/kernel",
        "spatial_norm/gamma",
        "spatial_norm/beta",
        "spatial_norm/moving_mean",
        "spatial_norm/moving_variance",
    },
    "timm_cbam": {
        "channel_hidden/kernel",
        "channel_out/kernel",
        "spatial_conv/kernel",
        "spatial_norm/gamma",
        "spatial_norm/beta",
        "spatial_norm/moving_mean",
        "spatial_norm/moving_variance",
    },
    "l2_stochastic": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
        "spatial_conv/kernel",
        "spatial_conv/bias",
    },
    "stochastic_l2_cbam": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
        "spatial_conv/kernel",
        "spatial_conv/bias",
    },
    "seed_channel_stochastic_l2": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
    },
    "seed_new_cbam": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
        "spatial_conv/kernel",
        "spatial_conv/bias",
        "gamma",
    },
    "cbam_avg_only": {
        "channel_hidden/kernel",
        "channel_out/kernel",
        "spatial_conv/kernel",
    },
    "light_cbam": {
        "channel_hidden/kernel",
        "channel_out/kernel",
        "spatial_conv/kernel",
        "spatial_norm/gamma",
        "spatial_norm/beta",
        "spatial_norm/moving_mean",
        "spatial_norm/moving_variance",
    },
    "se": {
        "channel_hidden/kernel",
        "channel_hidden/bias",
        "channel_out/kernel",
        "channel_out/bias",
    },
    "ese": {"channel_out/kernel", "channel_out/bias"},
    "eca": {"channel_conv1d/kernel"},
    "gem_cbam": {
        "channel_hidden/kernel",
        "channel_out/kernel",
        "spatial_conv/kernel",
        "channel_pool0_p",
    },
    "softpool_cbam": {
        "channel_hidden/kernel",
        "channel_out/kernel",
        "spatial_conv/kernel",
    },
}


def bundled_layer(path: Path, **kwargs):
    spec = load_spec(path)
    module = import_generated(Path("generated") / f"{path.stem}.py")
    return spec, getattr(module, spec.name)(**kwargs)


def test_every_bundled_spec_has_pinned_weight_names():
    assert {p.stem for p in BUNDLED} == set(EXPECTED_WEIGHTS)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
def test_weight_names_are_stable(path):
    _, layer = bundled_layer(path)
    layer.build((None, 8, 8, 32))
    assert set(named_weights(layer)) == EXPECTED_WEIGHTS[path.stem]


WITH_MLP = [p for p in BUNDLED if (s := load_spec(p).channel) and s.excite == "mlp"]


@pytest.mark.parametrize("channels", [1, 8, 40, 48, 256])
@pytest.mark.parametrize("path", WITH_MLP, ids=lambda p: p.stem)
def test_hidden_width_follows_the_spec_rule(path, channels):
    spec, layer = bundled_layer(path)
    layer.build((None, 4, 4, channels))
    kernel = named_weights(layer)["channel_hidden/kernel"]
    assert kernel.shape[1] == reference.hidden_width(spec.channel, channels)


def test_constructor_defaults_are_the_spec_values_and_config_round_trips():
    spec = spec_from_yaml("""
cbamgen: 1
name: Params
channel: {pools: [{type: lp, p: 3}, {type: lse, r: 2.5}], reduction: 8, divisor: 2}
spatial: {kernel_size: 5, dilation: 2, norm: batch, norm_momentum: 0.9}
gamma: {mode: residual, init: 0.25}
""")
    layer = layer_for(spec)
    config = layer.get_config()
    assert {
        k: config[k]
        for k in (
            "reduction",
            "divisor",
            "min_hidden",
            "channel_pool0_p",
            "channel_pool1_r",
            "spatial_kernel_size",
            "spatial_dilation",
            "norm_momentum",
            "norm_epsilon",
            "gamma_init",
        )
    } == {
        "reduction": 8,
        "divisor": 2,
        "min_hidden": 1,
        "channel_pool0_p": 3,
        "channel_pool1_r": 2.5,
        "spatial_kernel_size": 5,
        "spatial_dilation": 2,
        "norm_momentum": 0.9,
        "norm_epsilon": 1e-5,
        "gamma_init": 0.25,
    }
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    json.dumps(config)  # serialisable as the .keras format needs


def test_unknown_height_and_width_and_any_batch_size():
    _, layer = bundled_layer(Path("specs/l2_stochastic.yaml"), seed=1)
    inputs = keras.Input((None, None, 16))
    model = keras.Model(inputs, layer(inputs))
    for shape in [(1, 1, 1, 16), (3, 7, 5, 16), (2, 17, 4, 16)]:
        out = model(np.ones(shape, np.float32), training=True)
        assert tuple(out.shape) == shape


def test_unknown_channels_is_a_clear_error():
    _, layer = bundled_layer(Path("specs/cbam.yaml"))
    with pytest.raises(ValueError, match="unknown channels in"):
        layer.build((None, 8, 8, None))


def test_channels_first_equals_channels_last_on_transposed_input():
    text = """
cbamgen: 1
name: Layout
data_format: {}
channel: {{pools: [l2, max, stochastic]}}
spatial: {{pools: [stochastic, {{type: lse, r: 3}}], norm: batch}}
fusion: add
"""
    last = layer_for(spec_from_yaml(text.format("channels_last")))
    first = layer_for(spec_from_yaml(text.format("channels_first")))
    x = np.random.default_rng(0).normal(size=(2, 6, 5, 12)).astype(np.float32)
    last.build(x.shape)
    first.build((2, 12, 6, 5))
    first.set_weights(last.get_weights())
    y_last = np.asarray(last(x))
    y_first = np.asarray(first(x.transpose(0, 3, 1, 2)))
    np.testing.assert_allclose(
        y_first.transpose(0, 2, 3, 1), y_last, rtol=1e-5, atol=1e-6
    )


@pytest.fixture
def mixed_precision():
    keras.mixed_precision.set_global_policy("mixed_float16")
    yield
    keras.mixed_precision.set_global_policy("float32")


ALL_POOLS_SPEC = """
cbamgen: 1
name: AllPools
channel:
  pools: [avg, max, l2, {type: lp, p: 3}, lse, {type: lse, normalize: sum}, stochastic, gem,
          {type: mixed, trainable: true}, softpool]
  reduction: 1  # 8 hidden units: with one, a dead ReLU could hide a pool's gradient
spatial:
  pools: [avg, max, l2, {type: lp, p: 3, normalize: sum}, lse, stochastic, gem, mixed,
          softpool, {type: stochastic, window: 3}, {type: lse, window: 3},
          {type: gem, window: 5}, {type: softpool, window: 3}, {type: lp, window: 3}]
  norm: batch
gamma: {mode: blend, init: 0.5}
"""


def test_pools_compute_in_float32_under_mixed_precision(mixed_precision):
    # In float16, 300**2 = 90000 overflows (max 65504): an L2 pool computed in float16
    # would return inf. Computed in float32 it returns 300.
    from cbamgen.render import render_source

    from .support import import_source

    module = import_source(
        render_source(spec_from_yaml(ALL_POOLS_SPEC), "specs/a.yaml")
    )
    layer = module.AllPools()
    layer.build((1, 4, 4, 8))
    x = np.full((1, 4, 4, 8), 300.0, np.float16)
    regions = keras.ops.cast(keras.ops.reshape(x, (1, 16, 8)), "float32")
    assert np.allclose(np.asarray(module._l2_pool(regions, axis=1)), 300.0)
    assert np.all(np.isfinite(np.asarray(layer(x))))


def test_trainable_pool_parameters_and_gamma_get_gradients():
    import tensorflow as tf

    layer = layer_for(spec_from_yaml(ALL_POOLS_SPEC), seed=0)
    x = tf.constant(np.random.default_rng(1).normal(size=(2, 8, 8, 8)), dtype="float32")
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(layer(x, training=True) ** 2)
    names = [v.path.split("/", 1)[1] for v in layer.trainable_weights]
    gradients = dict(
        zip(names, tape.gradient(loss, layer.trainable_weights), strict=True)
    )
    for name in (
        "channel_pool7_p",
        "channel_pool8_alpha_logit",
        "spatial_pool6_p",
        "gamma",
    ):
        value = float(np.asarray(gradients[name]))
        assert np.isfinite(value) and value != 0.0, name


def test_fit_updates_weights():
    _, layer = bundled_layer(Path("specs/stochastic_l2_cbam.yaml"), seed=0)
    inputs = keras.Input((8, 8, 16))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling2D()(layer(inputs)))
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(0).normal(size=(16, 8, 8, 16)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, np.zeros((16, 16)), epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert any(
        not np.array_equal(a, b)
        for a, b in zip(before, model.get_weights(), strict=True)
    )


def test_save_and_load_in_a_fresh_process(tmp_path):
    """Each bundled block survives .keras save/load where only the generated module is
    imported; without that import Keras refuses to load."""
    script = textwrap.dedent("""
        import importlib.util, sys
        import numpy as np, keras
        stem, path, mode = sys.argv[1:4]
        if mode == "import":
            spec = importlib.util.spec_from_file_location(stem, f"generated/{stem}.py")
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
        x = np.load(path + ".npy")
        try:
            model = keras.saving.load_model(path)
        except Exception as exc:
            print("LOAD FAILED:", type(exc).__name__, str(exc)[:200])
            sys.exit(3)
        np.save(path + ".out.npy", np.asarray(model(x, training=False)))
        model.fit(x, np.zeros((len(x),) + model.output_shape[1:]), epochs=1, verbose=0)
    """)
    rng = np.random.default_rng(0)
    jobs = []
    for path in BUNDLED:
        spec, layer = bundled_layer(path)
        inputs = keras.Input((6, 6, 16))
        model = keras.Model(inputs, layer(inputs))
        model.compile(optimizer="sgd", loss="mse")
        x = rng.normal(size=(2, 6, 6, 16)).astype(np.float32)
        target = str(tmp_path / f"{path.stem}.keras")
        model.save(target)
        np.save(target + ".npy", x)
        jobs.append((path.stem, target, np.asarray(model(x, training=False))))
    runner = tmp_path / "load.py"
    runner.write_text(script)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    # One fresh process loads every model (TensorFlow's import cost is paid once).
    combined = tmp_path / "all.py"
    combined.write_text(
        "import runpy, sys\n"
        + "".join(
            f"sys.argv = ['', {stem!r}, {target!r}, 'import']\n"
            f"runpy.run_path({str(runner)!r})\n"
            for stem, target, _ in jobs
        )
    )
    result = subprocess.run(
        [sys.executable, str(combined)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-2000:]
    for stem, target, expected in jobs:
        np.testing.assert_array_equal(
            np.load(target + ".out.npy"), expected, err_msg=stem
        )
    refused = subprocess.run(
        [sys.executable, str(runner), jobs[0][0], jobs[0][1], "none"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert refused.returncode == 3, refused.stdout + refused.stderr[-2000:]
    assert "LOAD FAILED" in refused.stdout


@pytest.mark.parametrize(
    "stem, channels, expected",
    [
        ("se", 40, {"channel_hidden/kernel": (40, 8)}),  # timm: make_divisible(2.5, 8)
        ("se", 256, {"channel_hidden/kernel": (256, 16)}),
        ("timm_cbam", 40, {"channel_hidden/kernel": (40, 3)}),  # nearest of 2.5
        ("cbam_official", 40, {"channel_hidden/kernel": (40, 2)}),  # floor of 2.5
        ("cbam", 8, {"channel_hidden/kernel": (8, 1)}),  # never 0 units
        ("seed_channel_stochastic_l2", 16, {"channel_hidden/kernel": (32, 32)}),
        (
            "seed_new_cbam",
            32,
            {"channel_hidden/kernel": (96, 2), "spatial_conv/kernel": (1, 1, 64, 1)},
        ),
        ("eca", 64, {"channel_conv1d/kernel": (3, 1, 1)}),
        ("eca", 256, {"channel_conv1d/kernel": (5, 1, 1)}),
        ("light_cbam", 32, {"spatial_conv/kernel": (7, 7, 1, 1)}),
        ("ese", 24, {"channel_out/kernel": (24, 24)}),
    ],
)
def test_bundled_blocks_have_the_published_shapes(stem, channels, expected):
    _, layer = bundled_layer(Path(f"specs/{stem}.yaml"))
    layer.build((None, 8, 8, channels))
    shapes = {k: v.shape for k, v in named_weights(layer).items()}
    assert {k: shapes[k] for k in expected} == expected
