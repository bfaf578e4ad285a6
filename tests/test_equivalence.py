"""Generated layers (inference mode, float32) equal the NumPy reference.

Weights are randomised before comparing, gamma and batch-norm statistics included, so a
pool, excitation, fusion rule or gamma mode computed differently would show.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cbamgen import reference
from cbamgen.loader import load_spec
from cbamgen.spec import Spec

from .strategies import input_shapes, specs
from .support import layer_for, randomize_weights

pytestmark = pytest.mark.keras

RTOL = 1e-5


def assert_close(y: np.ndarray, expected: np.ndarray, x: np.ndarray) -> None:
    """|y - expected| <= 1e-5 (|expected| + |x|), element by element.

    Outputs are x times gates. A gate is computed to ~1e-6 *absolute* precision in
    float32 (a 7x7 conv over 2C maps sums hundreds of terms), so where a gate is close to
    0 the output's *relative* error can exceed 1e-5 while the computation is right. The
    input's magnitude bounds that term; a wrong formula moves outputs by far more.
    """
    assert y.shape == expected.shape
    error = np.abs(y.astype(np.float64) - expected)
    bound = RTOL * (np.abs(expected) + np.abs(x))
    worst = np.unravel_index(np.argmax(error - bound), error.shape)
    assert np.all(error <= bound), (
        f"max excess at {worst}: got {y[worst]!r}, reference {expected[worst]!r}, "
        f"input {x[worst]!r}"
    )


BUNDLED = sorted(Path("specs").glob("*.yaml"))


def import_generated(path: Path):
    """Import a committed generated file by path, as a user would after copying it."""
    spec = importlib.util.spec_from_file_location(f"_golden_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def assert_matches_reference(
    spec: Spec, layer, shape, rng: np.random.Generator, x: np.ndarray | None = None
):
    if x is None:
        x = rng.normal(0.0, 2.0, size=shape).astype(np.float32)
    layer.build(shape)
    weights = randomize_weights(layer, rng)
    y = np.asarray(layer(x, training=False))
    expected = reference.forward(spec, weights, x)
    assert_close(y, expected, x)


@pytest.mark.parametrize("path", BUNDLED, ids=lambda p: p.stem)
@pytest.mark.parametrize("hw", [(1, 1), (5, 9), (16, 16)])
def test_bundled_generated_layer_equals_reference(path, hw):
    spec = load_spec(path)
    module = import_generated(Path("generated") / f"{path.stem}.py")
    layer = getattr(module, spec.name)()
    channels = 48
    shape = (
        (2, *hw, channels)
        if spec.data_format == "channels_last"
        else (2, channels, *hw)
    )
    assert_matches_reference(spec, layer, shape, np.random.default_rng(len(path.stem)))


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(data=st.data())
def test_random_spec_equals_reference(data):
    spec_dict = data.draw(specs(), label="spec")
    spec = load_spec_text(spec_dict)
    shape = data.draw(input_shapes(spec.data_format), label="input shape")
    seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
    assert_matches_reference(spec, layer_for(spec), shape, np.random.default_rng(seed))


def load_spec_text(spec_dict):
    from .support import spec_from_yaml

    return spec_from_yaml(yaml.safe_dump(spec_dict))


FAR_APART = """
cbamgen: 1
name: FarApart
data_format: {data_format}
spatial:
  pools: [{{type: lse, r: 10, window: 3}}, {{type: lse, normalize: sum, window: 5}},
          {{type: softpool, window: 3}}, {{type: lp, p: 60, window: 3}},
          {{type: lp, p: 60, normalize: sum, window: 3}},
          {{type: gem, p: 40, trainable: false, window: 3}},
          {{type: stochastic, weights: softmax, window: 3}}]
"""


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_windows_far_below_the_maps_maximum_are_still_exact(data_format):
    """Window pools shift (or scale) by the map's maximum so that they can use average
    pooling; a window whose values lie so far below it that its exp()s or powers
    underflow is computed with its own maximum instead. Here most windows do."""
    spec = load_spec_text(yaml.safe_load(FAR_APART.format(data_format=data_format)))
    rng = np.random.default_rng(5)
    x = rng.normal(-150.0, 30.0, size=(2, 9, 8, 4)).astype(np.float32)
    x[:, 0, 0, :] = 120.0  # each map's maximum, far above the rest
    x[:, 5:, 4:, :] = np.abs(x[:, 5:, 4:, :]) * 1e-3  # small positive values
    if data_format == "channels_first":
        x = x.transpose(0, 3, 1, 2).copy()
    assert_matches_reference(spec, layer_for(spec), x.shape, rng, x=x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("window", [1, 3, 5, 9])
def test_native_window_pools_clip_every_border_even_past_the_map(window, data_format):
    """avg and max over windows are the backend's pooling ops with 'same' padding: the
    padding must take no part, at every border and when the window is larger than the
    map (9 on maps of 1x1 to 5x4)."""
    pools = ", ".join(
        f"{{type: {kind}, window: {window}}}" for kind in ("avg", "max", "l2", "mixed")
    )
    spec = load_spec_text(
        {
            "cbamgen": 1,
            "name": "Borders",
            "data_format": data_format,
            "spatial": yaml.safe_load(f"{{pools: [{pools}], kernel_size: 3}}"),
        }
    )
    rng = np.random.default_rng(window)
    for height, width in [(1, 1), (2, 3), (5, 4)]:
        shape = (
            (2, height, width, 3)
            if data_format == "channels_last"
            else (2, 3, height, width)
        )
        assert_matches_reference(spec, layer_for(spec), shape, rng)


@pytest.mark.parametrize("training", [True, False])
def test_every_window_pool_has_finite_gradients_on_all_zero_windows(training):
    """sqrt, powers, logs and divisions by a window's sum or maximum have infinite or
    undefined slopes at 0: a map that is 0 (or 0 in places) must still give finite
    outputs and gradients, for the input and every weight, in training and inference."""
    import tensorflow as tf

    from cbamgen.catalogue import POOLS

    pools = ", ".join(
        f"{{type: {kind}, window: 3}}"
        for kind in [*POOLS, "stochastic, weights: softmax", "gem, trainable: true"]
    )
    spec = load_spec_text(
        {
            "cbamgen": 1,
            "name": "ZeroWindows",
            "spatial": yaml.safe_load(f"{{pools: [{pools}], kernel_size: 3}}"),
        }
    )
    layer = layer_for(spec)
    x = np.zeros((2, 6, 5, 3), np.float32)
    x[1, 3:, 3:, :] = np.random.default_rng(0).normal(size=(3, 2, 3))  # zeros around
    x = tf.constant(x)
    layer.build(x.shape)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y = layer(x, training=training)
        loss = tf.reduce_sum(y * y) + tf.reduce_sum(y)
    grads = tape.gradient(loss, [x, *layer.trainable_weights])
    assert np.isfinite(y.numpy()).all()
    names = ["input", *(w.path for w in layer.trainable_weights)]
    for g, name in zip(grads, names, strict=True):
        assert g is not None and np.isfinite(np.asarray(g)).all(), name
