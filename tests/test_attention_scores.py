"""return_attention_scores=True returns the very gates the output was multiplied by,
as keras.layers.MultiHeadAttention returns its scores: equal to the NumPy reference's
gates, and recombining them with the input gives the output."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from cbamgen import reference

from .support import layer_for, randomize_weights, spec_from_yaml

pytestmark = pytest.mark.keras

FUSIONS = ["sequential", "spatial_first", "add", "multiply", "mean"]


def spec_for(fusion: str, data_format: str, branches: str = "both"):
    text = f"cbamgen: 1\nname: Scored\ndata_format: {data_format}\n"
    if branches in ("both", "channel"):
        text += "channel: {pools: [avg, l2], reduction: 4}\n"
    if branches in ("both", "spatial"):
        text += "spatial: {pools: [max, {type: lse, window: 3}], norm: batch}\n"
    if branches == "both":
        text += f"fusion: {fusion}\ngamma: {{mode: residual, init: 0.3}}\n"
    return spec_from_yaml(text)


CASES = [(f, "both") for f in FUSIONS] + [
    ("sequential", "channel"),
    ("sequential", "spatial"),
]


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("fusion, branches", CASES)
def test_scores_are_the_gates_the_output_used(fusion, branches, data_format):
    spec = spec_for(fusion, data_format, branches)
    rng = np.random.default_rng(len(fusion))
    shape = (2, 6, 5, 12) if data_format == "channels_last" else (2, 12, 6, 5)
    x = rng.normal(size=shape).astype(np.float32)
    layer = layer_for(spec)
    layer.build(shape)
    weights = randomize_weights(layer, rng)
    outputs, scores = layer(x, return_attention_scores=True)
    np.testing.assert_array_equal(np.asarray(outputs), np.asarray(layer(x)))
    expected = reference.gates(spec, weights, x)
    assert set(scores) == set(expected)
    for name, gate in expected.items():
        got = np.asarray(scores[name])
        assert got.shape == gate.shape, name
        np.testing.assert_allclose(got, gate, rtol=1e-5, atol=1e-6, err_msg=name)


def test_scores_work_in_a_functional_model_and_a_saved_one(tmp_path):
    """Like MultiHeadAttention's: the flag gives a second output in a functional graph,
    and such a model saves and loads."""
    spec = spec_for("sequential", "channels_last")
    layer = layer_for(spec)
    inputs = keras.Input((8, 8, 12))
    outputs, scores = layer(inputs, return_attention_scores=True)
    assert tuple(scores["channel"].shape) == (None, 12)
    assert tuple(scores["spatial"].shape) == (None, 8, 8)
    model = keras.Model(inputs, [outputs, scores["spatial"]])
    x = np.random.default_rng(0).normal(size=(3, 8, 8, 12)).astype(np.float32)
    y, spatial = model(x)
    assert spatial.shape == (3, 8, 8)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(np.asarray(restored(x)[1]), np.asarray(spatial))
