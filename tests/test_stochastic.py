"""Stochastic pooling in training mode: real sampling, right frequencies, right gradients.

These exercise the helper the generated file defines (`_stochastic_pool`,
`_softmax_stochastic_pool`) directly, on both layouts the branches use: regions along
axis 1 (channel branch, one row per channel map) and along the last axis (spatial
branch, across channels).
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

from .support import import_source, layer_for, spec_from_yaml

SPEC = """
cbamgen: 1
name: Sampler
channel:
  pools: [stochastic, {type: stochastic, weights: softmax}]
spatial:
  pools: [stochastic]
"""


@pytest.fixture(scope="module")
def module():
    from cbamgen.render import render_source

    return import_source(render_source(spec_from_yaml(SPEC), "specs/sampler.yaml"))


def regions_along(axis: int, values: np.ndarray, copies: int) -> np.ndarray:
    """``copies`` identical regions holding ``values``, laid out along ``axis``."""
    tiled = np.tile(values[:, None], (1, copies)).astype(np.float32)  # (n, copies)
    return (
        tiled[None] if axis == 1 else tiled.T[None]
    )  # (1, n, copies) or (1, copies, n)


def sample(module, x, axis, seed=0, softmax=False):
    pool = module._softmax_stochastic_pool if softmax else module._stochastic_pool
    return np.asarray(
        pool(
            x, axis=axis, training=True, seed_generator=keras.random.SeedGenerator(seed)
        )
    )


@pytest.mark.parametrize("axis", [1, -1])
def test_training_output_is_always_one_of_the_region_inputs(module, axis):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, 9, 16)).astype(np.float32)
    out = sample(module, x, axis)
    values = np.moveaxis(x, axis, -1)  # regions along the last axis
    picked = np.moveaxis(out, axis, -1)
    positive = (values > 0).any(axis=-1)
    assert np.all(np.isclose(values, picked).any(axis=-1)[positive])
    assert np.all(picked[~positive] == 0.0)


CHI2_CRITICAL_P001 = {3: 16.266, 4: 18.467}  # chi-square quantiles at 0.999


@pytest.mark.parametrize("axis", [1, -1])
@pytest.mark.parametrize("softmax", [False, True], ids=["relu", "softmax"])
def test_sample_frequencies_match_probabilities(module, axis, softmax):
    values = np.array([-1.0, 0.5, 1.0, 1.5, 2.0])
    if softmax:
        weights = np.exp(values - values.max())
    else:
        weights = np.maximum(values, 0.0)
    probabilities = weights / weights.sum()
    draws = 20_000
    out = sample(
        module, regions_along(axis, values, draws), axis, seed=7, softmax=softmax
    )
    counts = np.array([np.sum(np.isclose(out, v)) for v in values])
    assert counts.sum() == draws
    possible = probabilities > 0
    assert counts[~possible].sum() == 0  # zero-weight elements are never drawn
    expected = probabilities[possible] * draws
    chi2 = float(((counts[possible] - expected) ** 2 / expected).sum())
    assert chi2 < CHI2_CRITICAL_P001[possible.sum() - 1], (counts, expected)


def test_same_seed_reproduces_and_other_seeds_differ(module):
    x = np.random.default_rng(1).normal(size=(2, 30, 8)).astype(np.float32)
    first, again = sample(module, x, 1, seed=3), sample(module, x, 1, seed=3)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, sample(module, x, 1, seed=4))


def test_successive_draws_from_one_generator_differ(module):
    x = np.random.default_rng(1).normal(size=(2, 30, 8)).astype(np.float32)
    generator = keras.random.SeedGenerator(5)
    pool = module._stochastic_pool
    first = np.asarray(pool(x, axis=1, training=True, seed_generator=generator))
    second = np.asarray(pool(x, axis=1, training=True, seed_generator=generator))
    assert not np.array_equal(first, second)


def test_inference_is_deterministic_weighted_average(module):
    x = np.array([[-1.0, 2.0, 3.0]], dtype=np.float32)[..., None]  # (1, 3, 1), axis 1
    generator = keras.random.SeedGenerator(0)
    outs = [
        np.asarray(
            module._stochastic_pool(x, axis=1, training=False, seed_generator=generator)
        )
        for _ in range(3)
    ]
    assert all(np.array_equal(outs[0], o) for o in outs)
    assert outs[0].item() == pytest.approx(2.6)  # (2*2 + 3*3) / 5


@pytest.mark.parametrize("training", [True, False])
def test_all_zero_weight_region_gives_zero_with_finite_gradient(module, training):
    x = tf.constant([[[-1.0], [-2.0], [0.0]]])  # (1, 3, 1): relu weights all zero
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = module._stochastic_pool(
            x, axis=1, training=training, seed_generator=keras.random.SeedGenerator(0)
        )
    gradient = tape.gradient(out, x)
    assert float(out[0, 0, 0]) == 0.0
    assert np.all(np.isfinite(gradient.numpy()))


@pytest.mark.parametrize("axis", [1, -1])
def test_gradient_reaches_only_the_sampled_element(module, axis):
    rng = np.random.default_rng(2)
    x = tf.constant(rng.uniform(0.1, 1.0, size=(3, 6, 5)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = module._stochastic_pool(
            x, axis=axis, training=True, seed_generator=keras.random.SeedGenerator(9)
        )
        loss = tf.reduce_sum(out)
    gradient = np.moveaxis(tape.gradient(loss, x).numpy(), axis, -1)
    values = np.moveaxis(x.numpy(), axis, -1)
    picked = np.moveaxis(out.numpy(), axis, -1)
    assert np.all(gradient.sum(axis=-1) == 1.0)  # one unit of gradient per region ...
    assert np.all((gradient != 0).sum(axis=-1) == 1)  # ... on one element ...
    chosen = np.take_along_axis(values, gradient.argmax(axis=-1)[..., None], axis=-1)
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
