"""No sampler ever returns an element of weight 0: checked exactly, not statistically.

Each sampler turns one uniform number u per region into an element by comparing u·total
with running sums of the weights. Where u·total lies within rounding of a boundary
between two elements, a subtraction that rounds past the boundary used to select the
element before it, even when that element's weight was 0 (a relu weight of a negative
value, a cell outside the map, a softmax weight that underflowed). Here every sampler is
run at the float32 uniforms next to every boundary of many random regions, with the
uniform numbers injected in place of the random ones.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cbamgen.render import render_source

from .support import import_source, spec_from_yaml

pytestmark = pytest.mark.keras

SPEC = """
cbamgen: 1
name: Exact
channel:
  pools: [stochastic, {type: stochastic, weights: softmax},
          {type: stochastic, sampler: simple}]
spatial:
  pools: [stochastic, {type: stochastic, window: 3},
          {type: stochastic, weights: softmax, window: 3}]
"""
STEP = 2.0**-24  # the uniforms are multiples of it, in [0, 1)


@pytest.fixture(scope="module")
def module():
    return import_source(render_source(spec_from_yaml(SPEC), "specs/exact.yaml"))


def uniforms_next_to_boundaries(weights: np.ndarray) -> np.ndarray:
    """Every float32 uniform within three steps of a boundary between two elements of
    the region (weights in sampling order), and the two ends."""
    cdf = np.cumsum(weights.astype(np.float64))
    near = np.round(cdf / cdf[-1] / STEP).astype(np.int64)
    candidates = (near[:, None] + np.arange(-3, 4)).ravel()
    candidates = np.concatenate([candidates, [0, 1, 2, 2**24 - 1]])
    return np.unique(np.clip(candidates, 0, 2**24 - 1)) * STEP


def inject(monkeypatch, module, uniforms: np.ndarray) -> None:
    """The module's hashed uniforms become ``uniforms``, one per region (batch item)."""

    def fixed(shape, seed_generator):
        ones = [len(uniforms)] + [1] * (len(shape) - 1)
        values = np.reshape(uniforms, ones).astype(np.float32)
        return keras.ops.broadcast_to(values, shape)

    monkeypatch.setattr(module, "_uniform", fixed)


def random_region(rng: np.random.Generator, size: int) -> np.ndarray:
    """Values where about half the relu weights are 0, with magnitudes far apart so
    that running sums round."""
    magnitude = 10.0 ** rng.uniform(-6, 6, size)
    return (rng.choice([-1.0, 1.0], size) * magnitude).astype(np.float32)


def test_the_reported_case_no_longer_returns_a_weight_0_element(module, monkeypatch):
    # (1, 2, 3, 1): one 2 x 3 map; u = 11893436 * 2**-24 used to return -0.16.
    x = np.array([[0.29, 0.53, 1.25], [-0.16, 0.85, -0.04]], np.float32)
    inject(monkeypatch, module, np.array([11893436 * STEP]))
    out = module._stochastic_map_pool(
        x[None, :, :, None], axis=(1, 2), training=True, seed_generator=None
    )
    assert float(np.asarray(out).item()) > 0


@pytest.mark.parametrize("layout", ["map", "across"])
def test_the_fast_sampler_never_returns_a_weight_0_element(module, monkeypatch, layout):
    rng = np.random.default_rng(1)
    for _ in range(60):
        rows, columns = rng.integers(1, 6), rng.integers(1, 8)
        values = random_region(rng, rows * columns)
        weights = np.maximum(values, 0)
        if not weights.any():
            continue
        uniforms = uniforms_next_to_boundaries(weights)  # row-major, as sampled
        inject(monkeypatch, module, uniforms)
        copies = np.broadcast_to(values, (len(uniforms), values.size))
        if layout == "map":  # a channel's rows x columns map, channels-last
            x = copies.reshape(-1, rows, columns, 1)
            out = module._stochastic_map_pool(x, (1, 2), True, None)
        else:  # a pixel's channels, split into blocks by the sampler itself
            x = copies.reshape(-1, 1, 1, values.size)
            out = module._stochastic_pool(x, -1, True, None)
        out = np.asarray(out).reshape(-1)
        assert np.all(out > 0), (values, uniforms[out <= 0])


def test_the_fast_sampler_never_returns_an_underflowed_softmax_weight(
    module, monkeypatch
):
    rng = np.random.default_rng(2)
    for _ in range(40):
        size = int(rng.integers(2, 30))
        values = rng.uniform(-300.0, 0.0, size).astype(np.float32)
        values[rng.integers(size)] = 0.0  # exp(x - max x) of the others may be 0
        weights = np.exp(values.astype(np.float64) - values.max()).astype(np.float32)
        uniforms = uniforms_next_to_boundaries(weights)
        inject(monkeypatch, module, uniforms)
        x = np.broadcast_to(values, (len(uniforms), size)).reshape(-1, 1, size, 1)
        out = np.asarray(
            module._softmax_stochastic_map_pool(x, (1, 2), True, None)
        ).reshape(-1)
        # float32's exp() is 0 below about -104 (also where denormals are flushed).
        underflowed = values[values < values.max() - 110]
        assert np.isin(out, values).all() and not np.isin(out, underflowed).any()


def test_the_window_sampler_never_returns_a_weight_0_cell(module, monkeypatch):
    """A 3 x 3 window at a map's corner holds 5 cells outside the map (weight 0) and
    relu weights of 0 inside; the sampler must pick an inside cell of weight > 0."""
    rng = np.random.default_rng(3)
    for _ in range(60):
        values = random_region(rng, 4).reshape(2, 2)  # the corner pixel's window
        if not (values > 0).any():
            continue
        padded = np.pad(np.maximum(values, 0), ((1, 0), (1, 0)))  # in view order
        uniforms = uniforms_next_to_boundaries(padded.ravel())
        inject(monkeypatch, module, uniforms)
        x = np.broadcast_to(values, (len(uniforms), 2, 2))[..., None]
        out = np.asarray(module._stochastic_window_pool(x, 3, True, None))[:, 0, 0, 0]
        assert np.all(out > 0), (values, uniforms[out <= 0])


def test_the_simple_sampler_never_returns_a_weight_0_element(module, monkeypatch):
    rng = np.random.default_rng(4)
    for _ in range(60):
        size = int(rng.integers(1, 40))
        values = random_region(rng, size)
        weights = np.maximum(values, 0)
        if not weights.any():
            continue
        uniforms = uniforms_next_to_boundaries(weights)

        def fixed(shape, seed=None, uniforms=uniforms):
            values = np.reshape(uniforms, (-1,) + (1,) * (len(shape) - 1))
            return keras.ops.broadcast_to(values.astype(np.float32), shape)

        monkeypatch.setattr(keras.random, "uniform", fixed)
        x = np.broadcast_to(values, (len(uniforms), size)).reshape(-1, 1, size, 1)
        out = np.asarray(module._simple_stochastic_pool(x, (1, 2), True, None))
        assert np.all(out.reshape(-1) > 0), (values, uniforms[out.reshape(-1) <= 0])
