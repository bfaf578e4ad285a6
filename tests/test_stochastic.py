"""Stochastic pooling in training mode: real sampling, right frequencies, right gradients.

These exercise the helpers the generated file defines (`_stochastic_pool`,
`_softmax_stochastic_pool`, and those of `sampler: simple`) directly, on every layout
the branches use: a channel's map (channel branch), the channels at a pixel (spatial
branch, across channels).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from .support import (
    assert_frequencies,
    import_source,
    layer_for,
    lowbias32,
    spec_from_yaml,
)

pytestmark = pytest.mark.keras

SPEC = """
cbamgen: 1
name: Sampler
channel:
  pools: [stochastic, {type: stochastic, weights: softmax},
          {type: stochastic, sampler: simple},
          {type: stochastic, weights: softmax, sampler: simple}]
spatial:
  pools: [stochastic, {type: stochastic, weights: softmax}]
"""


@pytest.fixture(scope="module")
def module():
    from cbamgen.render import render_source

    return import_source(render_source(spec_from_yaml(SPEC), "specs/sampler.yaml"))


# How the branches lay regions out: (helper stem, axis argument, region shape).
# Channel-branch regions are whole maps (two axes, sampled row then column); spatial
# regions are the channels at a pixel (one axis, last or, channels_first, axis 1).
# The simple sampler (sampler: simple) has one helper for both kinds of region.
FAST = {
    "channels": ("_stochastic_pool", -1),
    "channels_first": ("_stochastic_pool", 1),
    "map": ("_stochastic_map_pool", (1, 2)),
    "map_channels_first": ("_stochastic_map_pool", (2, 3)),
}
LAYOUTS = {
    **FAST,
    **{
        f"simple-{name}": ("_simple_stochastic_pool", a)
        for name, (_, a) in FAST.items()
    },
}
REGION = (2, 3)  # a map region is 2 rows x 3 columns; an axis region has 6 elements


def layout(name: str, values: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` regions each holding ``values`` (6 numbers), laid out as ``name``."""
    name = name.removeprefix("simple-")
    values = np.asarray(values, np.float32)
    grid = np.broadcast_to(values.reshape(REGION)[..., None], (*REGION, copies))
    return {
        "channels": lambda: values[None, None, :] * np.ones((1, copies, 1), np.float32),
        "channels_first": lambda: values[None, :, None]
        * np.ones((1, 1, copies), np.float32),
        "map": lambda: grid[None].copy(),
        "map_channels_first": lambda: np.moveaxis(grid, -1, 0)[None].copy(),
    }[name]()


def regions_of(name: str, x: np.ndarray) -> np.ndarray:
    """(number of regions, region size): each row one region's values."""
    name = name.removeprefix("simple-")
    if name == "channels":
        return x.reshape(-1, x.shape[-1])
    if name == "channels_first":
        return np.moveaxis(x, 1, -1).reshape(-1, x.shape[1])
    if name == "map":
        return np.moveaxis(x, (1, 2), (-2, -1)).reshape(-1, x.shape[1] * x.shape[2])
    return x.reshape(x.shape[0] * x.shape[1], -1)


def pool(module, name, softmax=False):
    stem, axis = LAYOUTS[name]
    helper = getattr(
        module,
        stem.replace("_stochastic", "_softmax_stochastic", 1) if softmax else stem,
    )
    return helper, axis


def sample(module, name, x, seed=0, softmax=False):
    helper, axis = pool(module, name, softmax)
    return np.asarray(
        helper(
            x, axis=axis, training=True, seed_generator=keras.random.SeedGenerator(seed)
        )
    )


def random_input(name, rng):
    name = name.removeprefix("simple-")
    shapes = {
        "channels": (3, 7, 6),
        "channels_first": (3, 6, 7),
        "map": (3, 2, 3, 7),
        "map_channels_first": (3, 7, 2, 3),
    }
    return rng.normal(size=shapes[name]).astype(np.float32)


@pytest.mark.parametrize("name", LAYOUTS)
def test_training_output_is_always_one_of_the_region_inputs(module, name):
    x = random_input(name, np.random.default_rng(0))
    values = regions_of(name, x)
    picked = sample(module, name, x).reshape(-1)
    positive = (values > 0).any(axis=-1)
    assert np.all(np.isclose(values, picked[:, None]).any(axis=-1)[positive])
    assert np.all(picked[~positive] == 0.0)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("softmax", [False, True], ids=["relu", "softmax"])
def test_sample_frequencies_match_probabilities(module, name, softmax):
    values = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25])
    if softmax:
        weights = np.exp(values - values.max())
    else:
        weights = np.maximum(values, 0.0)
    probabilities = weights / weights.sum()
    draws = 20_000
    out = sample(module, name, layout(name, values, draws), seed=7, softmax=softmax)
    assert_frequencies(out, values, probabilities)


@pytest.mark.parametrize("name", LAYOUTS)
def test_same_seed_reproduces_and_other_seeds_differ(module, name):
    x = random_input(name, np.random.default_rng(1))
    first = sample(module, name, x, seed=3)
    np.testing.assert_array_equal(first, sample(module, name, x, seed=3))
    assert not np.array_equal(first, sample(module, name, x, seed=4))


@pytest.mark.parametrize("name", LAYOUTS)
def test_successive_draws_from_one_generator_differ(module, name):
    helper, axis = pool(module, name)
    x = random_input(name, np.random.default_rng(1))
    generator = keras.random.SeedGenerator(5)
    first = np.asarray(helper(x, axis=axis, training=True, seed_generator=generator))
    second = np.asarray(helper(x, axis=axis, training=True, seed_generator=generator))
    assert not np.array_equal(first, second)


@pytest.mark.parametrize("name", LAYOUTS)
def test_inference_is_deterministic_weighted_average(module, name):
    helper, axis = pool(module, name)
    x = layout(name, [-1.0, 2.0, 3.0, 0.0, -4.0, 1.0], 1)
    generator = keras.random.SeedGenerator(0)
    outs = [
        np.asarray(helper(x, axis=axis, training=False, seed_generator=generator))
        for _ in range(3)
    ]
    assert all(np.array_equal(outs[0], o) for o in outs)
    assert outs[0].item() == pytest.approx(14 / 6)  # (2*2 + 3*3 + 1*1) / (2 + 3 + 1)


@pytest.mark.parametrize("name", LAYOUTS)
@pytest.mark.parametrize("training", [True, False])
def test_all_zero_weight_region_gives_zero_with_finite_gradient(module, name, training):
    helper, axis = pool(module, name)
    x = tf.constant(layout(name, [-1.0, -2.0, 0.0, -0.5, -3.0, 0.0], 2))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = helper(
            x,
            axis=axis,
            training=training,
            seed_generator=keras.random.SeedGenerator(0),
        )
    gradient = tape.gradient(out, x)
    assert np.all(out.numpy() == 0.0)
    assert np.all(np.isfinite(gradient.numpy()))


@pytest.mark.parametrize("name", LAYOUTS)
def test_gradient_reaches_only_the_sampled_element(module, name):
    helper, axis = pool(module, name)
    x = tf.constant(np.abs(random_input(name, np.random.default_rng(2))) + 0.1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = helper(
            x, axis=axis, training=True, seed_generator=keras.random.SeedGenerator(9)
        )
        loss = tf.reduce_sum(out)
    gradient = regions_of(name, tape.gradient(loss, x).numpy())
    values = regions_of(name, x.numpy())
    picked = out.numpy().reshape(-1)
    assert np.all(gradient.sum(axis=-1) == 1.0)  # one unit of gradient per region ...
    assert np.all((gradient != 0).sum(axis=-1) == 1)  # ... on one element ...
    chosen = values[np.arange(len(values)), gradient.argmax(axis=-1)]
    np.testing.assert_array_equal(chosen, picked)  # ... the one that was output


def test_layer_samples_in_training_and_averages_in_inference():
    spec = spec_from_yaml(SPEC)
    x = np.random.default_rng(3).normal(size=(2, 6, 6, 8)).astype(np.float32)
    layer = layer_for(spec, seed=11)
    twin = layer_for(spec, seed=11)
    layer.build(x.shape)
    twin.build(x.shape)
    twin.set_weights(layer.get_weights())
    inference = np.asarray(layer(x, training=False))
    np.testing.assert_array_equal(inference, np.asarray(layer(x)))  # training=None
    trained = np.asarray(layer(x, training=True))
    assert not np.allclose(trained, inference)
    np.testing.assert_array_equal(trained, np.asarray(twin(x, training=True)))


WINDOW_SPEC = """
cbamgen: 1
name: WindowSampler
spatial:
  pools: [{type: stochastic, window: 3}, {type: stochastic, weights: softmax, window: 3}]
"""


@pytest.mark.parametrize(
    "helper", ["_stochastic_window_pool", "_softmax_stochastic_window_pool"]
)
def test_window_sampling_draws_from_each_pixels_own_window(helper):
    from cbamgen.render import render_source

    window_module = import_source(render_source(spec_from_yaml(WINDOW_SPEC), "w.yaml"))
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 5, 6, 3)).astype(np.float32)
    out = np.asarray(
        getattr(window_module, helper)(
            x, window=3, training=True, seed_generator=keras.random.SeedGenerator(1)
        )
    )
    assert out.shape == x.shape
    for b, i, j, c in np.ndindex(*x.shape):
        window = x[b, max(i - 1, 0) : i + 2, max(j - 1, 0) : j + 2, c]
        if helper == "_stochastic_window_pool" and not (window > 0).any():
            assert out[b, i, j, c] == 0.0
        else:
            assert np.isclose(window, out[b, i, j, c]).any()
            if helper == "_stochastic_window_pool":
                assert out[b, i, j, c] > 0  # zero-weight cells are never drawn


@pytest.mark.parametrize("channels_first", [False, True], ids=["last", "first"])
@pytest.mark.parametrize("softmax", [False, True], ids=["relu", "softmax"])
def test_a_padded_last_block_is_never_drawn(module, channels_first, softmax):
    """Seven elements split as 3 + 3 + 1, padded to 3 x 3: the padding (zeros for relu
    weights, -inf for softmax) has weight 0, and frequencies stay right."""
    values = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25, 3.0], np.float32)
    weights = np.exp(values - values.max()) if softmax else np.maximum(values, 0.0)
    probabilities = weights / weights.sum()
    draws = 20_000
    if channels_first:
        x, axis = values[None, :, None] * np.ones((1, 1, draws), np.float32), 1
    else:
        x, axis = values[None, None, :] * np.ones((1, draws, 1), np.float32), -1
    helper = module._softmax_stochastic_pool if softmax else module._stochastic_pool
    generator = keras.random.SeedGenerator(3)
    out = np.asarray(helper(x, axis, training=True, seed_generator=generator))
    assert_frequencies(out, values, probabilities)  # never a padding value


@pytest.mark.parametrize("xla", [False, True], ids=["eager", "xla"])
def test_the_int32_hash_equals_unsigned_lowbias32(module, xla):
    rng = np.random.default_rng(0)
    words = np.concatenate(
        [
            np.array([0, 1, -1, 2**31 - 1, -(2**31), 0x12345678], np.int64),
            rng.integers(-(2**31), 2**31, size=2000),
        ]
    ).astype(np.int32)
    hash_ = module._hash
    if xla:
        hash_ = tf.function(hash_, jit_compile=True)
    got = np.asarray(hash_(tf.constant(words))).astype(np.int64) & 0xFFFFFFFF
    expected = np.array([lowbias32(int(w)) for w in words], np.int64)
    np.testing.assert_array_equal(got, expected)


def test_hashed_uniforms_are_uniform_reproducible_and_fresh_per_call(module):
    like = np.zeros((4, 50, 100), np.float32)
    first = np.asarray(module._uniform(like.shape, keras.random.SeedGenerator(11)))
    again = np.asarray(module._uniform(like.shape, keras.random.SeedGenerator(11)))
    generator = keras.random.SeedGenerator(11)
    module._uniform(like.shape, generator)
    second = np.asarray(module._uniform(like.shape, generator))
    np.testing.assert_array_equal(first, again)
    assert first.shape == like.shape
    assert 0.0 <= first.min() and first.max() < 1.0
    assert np.mean(first == second) < 1e-3  # the next call draws new numbers
    # 20 equal bins, chi-square at p = 0.001 (19 degrees of freedom: 43.82).
    counts = np.histogram(first, bins=20, range=(0.0, 1.0))[0]
    expected = first.size / 20
    assert float(((counts - expected) ** 2 / expected).sum()) < 43.82
    # Neighbouring positions are not correlated.
    flat = first.reshape(-1)
    assert abs(np.corrcoef(flat[:-1], flat[1:])[0, 1]) < 0.02


def test_uniforms_hash_each_coordinate_so_no_position_wraps(module, monkeypatch):
    """Flat int32 positions wrapped past 2**31 elements, repeating uniforms. Each axis's
    coordinate is hashed in turn instead: u[i, j, k] = top 24 bits of
    H(H(H(H(key0 ^ H(key1)) ^ i) ^ j) ^ k), H the lowbias32 hash, whatever the size."""
    keys = np.array([0x1234567, 0x7654321], np.int32)
    monkeypatch.setattr(keras.random, "randint", lambda *a, **k: keys)
    like = np.zeros((3, 4, 5), np.float32)
    got = np.asarray(module._uniform(like.shape, None))
    expected = np.empty(like.shape)
    for i, j, k in np.ndindex(*like.shape):
        bits = lowbias32(int(keys[0]) ^ lowbias32(int(keys[1])))
        for coordinate in (i, j, k):
            bits = lowbias32(bits ^ coordinate)
        expected[i, j, k] = ((bits >> 8) & 0xFFFFFF) * 2.0**-24
    np.testing.assert_array_equal(got, expected)


def test_gathers_past_int32_positions_are_refused(module):
    """Flat int32 positions cannot address 2**31 elements: a clear error, not a wrap.
    (Symbolic tensors: the guard reads the static shape before any op runs.)"""
    huge = keras.KerasTensor((2**16, 2**15, 1))
    with pytest.raises(ValueError, match="2\\*\\*31 elements or more"):
        module._gather(huge, keras.KerasTensor((2,), dtype="int32"))
    below = keras.KerasTensor((2**16, 2**15 - 1, 1))
    assert module._gather(below, keras.KerasTensor((2,), dtype="int32")).shape == (2,)


WINDOW_VALUES = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25, -0.5, 3.0, 0.75], np.float32)


@pytest.fixture(scope="module")
def window_module():
    from cbamgen.render import render_source

    return import_source(render_source(spec_from_yaml(WINDOW_SPEC), "w.yaml"))


@pytest.mark.parametrize("softmax", [False, True], ids=["relu", "softmax"])
def test_window_sampling_frequencies_match_probabilities(window_module, softmax):
    """The centre pixel of a 3 x 3 map sees all nine cells: its draws follow w / sum(w),
    in the order the cells lie (a transposed cell index would show)."""
    weights = np.exp(WINDOW_VALUES - 3.0) if softmax else np.maximum(WINDOW_VALUES, 0)
    draws = 20_000
    x = np.broadcast_to(WINDOW_VALUES.reshape(1, 3, 3, 1), (draws, 3, 3, 1)).copy()
    name = "_softmax_stochastic_window_pool" if softmax else "_stochastic_window_pool"
    out = getattr(window_module, name)(x, 3, True, keras.random.SeedGenerator(2))
    assert_frequencies(
        np.asarray(out)[:, 1, 1, 0], WINDOW_VALUES, weights / weights.sum()
    )


def test_window_sampling_sends_the_gradient_to_the_drawn_cell_only(window_module):
    rng = np.random.default_rng(6)
    x = tf.constant(np.abs(rng.normal(size=(50, 4, 5, 2))).astype(np.float32) + 0.1)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = window_module._stochastic_window_pool(
            x, 3, True, keras.random.SeedGenerator(4)
        )
        loss = tf.reduce_sum(out[:, 2, 2, :])  # one pixel's draw per image, channel
    gradient = tape.gradient(loss, x).numpy()
    assert np.all(gradient.sum(axis=(1, 2)) == 1.0)  # one unit per image and channel
    assert np.all((gradient != 0).sum(axis=(1, 2)) == 1)  # on one cell ...
    cell = gradient.reshape(50, 20, 2).argmax(axis=1)  # ... in the pixel's window ...
    rows, cols = cell // 5, cell % 5
    assert np.all((abs(rows - 2) <= 1) & (abs(cols - 2) <= 1))
    drawn = x.numpy().reshape(50, 20, 2)[np.arange(50)[:, None], cell, np.arange(2)]
    np.testing.assert_array_equal(drawn, out.numpy()[:, 2, 2, :])  # ... the one output
