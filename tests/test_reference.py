"""The NumPy reference against SPEC-v1's pinned values and small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cbamgen import reference
from cbamgen.catalogue import POOLS
from cbamgen.spec import ChannelBranch, Spec

X = np.array([[1.0, 2.0], [3.0, 4.0]])  # one channel, a 2x2 map
FLAT = X.reshape(1, 4)


#: Attention pooling's learned scores: s = 0.5 x + 0.25 (the shift cancels out).
SCORES = {"p_score/kernel": np.array([[0.5]]), "p_score/bias": np.array([0.25])}


def pool(kind: str, **settings) -> float:
    spec_pool = POOLS[kind](type=kind, **settings)
    return float(reference.pool(spec_pool, FLAT[..., None], 1, SCORES, "p")[0, 0])


# SPEC-v1, "Reference values for one channel x = [1, 2, 3, 4]".
SPEC_VALUES = [
    ("avg", {}, 2.5),
    ("max", {}, 4.0),
    ("l2", {}, 2.738613),
    ("lp", {"p": 2, "normalize": "sum"}, 5.477226),
    ("lse", {"normalize": "sum"}, 4.440190),
    ("lse", {}, 3.053895),
    ("lse", {"r": 10}, 3.861375),
    ("gem", {"trainable": False}, 2.924018),
    ("softpool", {}, 3.492653),
    ("stochastic", {}, 3.0),
    ("mixed", {}, 3.25),
    # sum softmax(0.5 x)_i x_i, by hand: 50.0866 / 16.2377.
    ("attention", {}, 3.084576),
]


@pytest.mark.parametrize("kind, settings, expected", SPEC_VALUES)
def test_pool_matches_spec_reference_value(kind, settings, expected):
    assert pool(kind, **settings) == pytest.approx(expected, abs=1e-6)


def test_every_catalogue_pool_has_a_pinned_value():
    reducing = {kind for kind, cls in POOLS.items() if not cls.keeps_channels}
    assert {kind for kind, _, _ in SPEC_VALUES} == reducing


def test_no_pooling_gives_the_spatial_conv_every_channel():
    """pools: [none] with a 1x1 conv of weights w: s = sigmoid(x . w + b) per pixel."""
    spec = Spec.model_validate(
        {"cbamgen": 1, "name": "S", "spatial": {"pools": ["none"], "kernel_size": 1}}
    )
    x = np.arange(12.0).reshape(1, 2, 2, 3) / 10.0
    kernel = np.array([0.5, -1.0, 2.0]).reshape(1, 1, 3, 1)
    weights = {"spatial_conv/kernel": kernel, "spatial_conv/bias": np.array([0.1])}
    by_hand = 1.0 / (1.0 + np.exp(-(x @ np.array([0.5, -1.0, 2.0]) + 0.1)))
    assert np.allclose(reference.forward(spec, weights, x), x * by_hand[..., None])


def test_l2_is_lp_with_p2_mean():
    assert pool("l2") == pytest.approx(pool("lp", p=2, normalize="mean"))


def test_lp_uses_absolute_values_for_odd_p():
    values = np.array([[-1.0, 2.0, -3.0]])
    spec_pool = POOLS["lp"](type="lp", p=3)
    expected = ((1 + 8 + 27) / 3) ** (1 / 3)
    assert reference.pool(spec_pool, values, 1, {}, "x")[0] == pytest.approx(expected)


def test_stochastic_inference_is_probability_weighted_average():
    # relu weights [0, 2, 3]: p = [0, .4, .6]; value = .4*2 + .6*3 = 2.6
    values = np.array([[-1.0, 2.0, 3.0]])
    spec_pool = POOLS["stochastic"](type="stochastic")
    assert reference.pool(spec_pool, values, 1, {}, "x")[0] == pytest.approx(2.6)


def test_stochastic_all_zero_weights_give_zero():
    values = np.array([[-1.0, -2.0, 0.0]])
    spec_pool = POOLS["stochastic"](type="stochastic")
    assert reference.pool(spec_pool, values, 1, {}, "x")[0] == 0.0


def test_stochastic_softmax_weights():
    values = np.array([[0.0, math.log(3.0)]])  # softmax weights 1/4, 3/4
    spec_pool = POOLS["stochastic"](type="stochastic", weights="softmax")
    expected = 0.75 * math.log(3.0)
    assert reference.pool(spec_pool, values, 1, {}, "x")[0] == pytest.approx(expected)


def test_gem_clamps_below_eps():
    values = np.array([[-5.0, 0.0, 2.0]])
    spec_pool = POOLS["gem"](type="gem", p=1.0, eps=0.5, trainable=False)
    assert reference.pool(spec_pool, values, 1, {}, "x")[0] == pytest.approx(1.0)


def test_learned_pool_parameters_come_from_weights():
    gem = POOLS["gem"](type="gem")  # trainable by default
    assert reference.pool(gem, FLAT, 1, {"c_p": np.array(1.0)}, "c")[
        0
    ] == pytest.approx(2.5)
    mixed = POOLS["mixed"](type="mixed", trainable=True)
    # logit 0 -> alpha 0.5
    assert (
        reference.pool(mixed, FLAT, 1, {"c_alpha_logit": np.array(0.0)}, "c")[0] == 3.25
    )


@pytest.mark.parametrize(
    "channels, settings, expected",
    [
        (40, {}, 2),  # SPEC-v1 worked examples
        (40, {"rounding": "nearest"}, 3),
        (40, {"rounding": "nearest", "divisor": 8}, 8),
        (256, {"rounding": "nearest", "divisor": 8}, 16),
        (8, {}, 1),  # the official code would build a 0-unit layer
        (8, {"min_hidden": 4}, 4),
        (64, {"reduction": 0.5}, 128),
        (64, {"hidden": 5}, 5),
    ],
)
def test_hidden_width_rule(channels, settings, expected):
    assert reference.hidden_width(ChannelBranch(**settings), channels) == expected


@pytest.mark.parametrize(
    "channels, expected", [(16, 3), (64, 3), (256, 5), (512, 5), (1024, 5), (2048, 7)]
)
def test_eca_adaptive_kernel_size(channels, expected):
    # t = int(|log2 C + 1| / 2): 64 -> 3 -> 3; 256 -> 4 -> 5; 2048 -> 6 -> 7
    assert reference.adaptive_kernel_size(channels) == expected


def test_conv2d_same_padding_by_hand():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    kernel = np.ones((3, 3, 1, 1))
    out = reference.conv2d_same(x, kernel)[0, :, :, 0]
    # The corner sees the 2x2 block [0,1,3,4]; the centre sees everything.
    assert out[0, 0] == 0 + 1 + 3 + 4
    assert out[1, 1] == sum(range(9))


def test_conv2d_dilation_skips_pixels():
    x = np.zeros((1, 5, 5, 1))
    x[0, 0, 0, 0] = 1.0
    kernel = np.zeros((3, 3, 1, 1))
    kernel[0, 0, 0, 0] = 1.0  # top-left tap, two pixels up-left with dilation 2
    out = reference.conv2d_same(x, kernel, dilation=2)[0, :, :, 0]
    assert out[2, 2] == 1.0 and out.sum() == 1.0


def test_conv1d_same_by_hand():
    x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
    kernel = np.array([1.0, 10.0, 100.0]).reshape(3, 1, 1)
    out = reference.conv1d_same(x, kernel)[0, :, 0]
    # out[i] = x[i-1] + 10 x[i] + 100 x[i+1]
    assert list(out) == [10 + 200, 1 + 20 + 300, 2 + 30]


def test_hard_sigmoid_is_the_keras3_pytorch_form():
    z = np.array([-3.0, 0.0, 1.5, 3.0])
    assert list(reference.hard_sigmoid(z)) == [0.0, 0.5, 0.75, 1.0]


def test_window_pool_is_clipped_at_the_borders():
    x = np.arange(9.0).reshape(1, 3, 3, 1)
    avg3 = POOLS["avg"](type="avg", window=3)
    out = reference.window_pool(avg3, x, {}, "w")[0, :, :, 0]
    assert out[0, 0] == np.mean([0, 1, 3, 4])  # the corner's window holds 4 cells
    assert out[0, 1] == np.mean([0, 1, 2, 3, 4, 5])
    assert out[1, 1] == np.mean(range(9))
    max3 = POOLS["max"](type="max", window=3)
    assert reference.window_pool(max3, -x, {}, "w")[0, 0, 0, 0] == 0.0
