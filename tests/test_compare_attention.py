"""Attention maps: the gates read from a trained network, their plot, and the report's
section, against a hand-written layer that follows the generated layers' interface
``call(inputs, training=None, return_attention_scores=False) -> (outputs, scores)``."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest
from keras import ops

from cbamgen.compare import plots, report
from cbamgen.compare.attention import collect_gates
from cbamgen.compare.results import Results, Row

pytestmark = [pytest.mark.keras, pytest.mark.compare]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class FakeAttention(keras.layers.Layer):
    """Channel gate sigmoid(Dense(mean over H, W)), spatial gate sigmoid(mean over C),
    applied one after the other."""

    def build(self, input_shape):
        self.dense = keras.layers.Dense(input_shape[-1], activation="sigmoid")
        self.dense.build((None, input_shape[-1]))

    def call(self, inputs, training=None, return_attention_scores=False):
        channel = self.dense(ops.mean(inputs, axis=(1, 2)))
        x = inputs * channel[:, None, None, :]
        spatial = ops.sigmoid(ops.mean(x, axis=-1))
        outputs = x * spatial[..., None]
        if return_attention_scores:
            return outputs, {"channel": channel, "spatial": spatial}
        return outputs


class OldAttention(keras.layers.Layer):
    def call(self, inputs, training=None):
        return inputs


def network(block):
    inputs = keras.Input((8, 8, 1))
    x = keras.layers.Conv2D(4, 3, padding="same", name="first")(inputs)
    x = block()(x)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", name="second")(x)
    x = block()(x)
    outputs = keras.layers.Dense(2, activation="softmax")(
        keras.layers.GlobalAveragePooling2D()(x)
    )
    return keras.Model(inputs, outputs)


def test_gates_are_the_ones_each_block_applies_to_its_own_input():
    keras.utils.set_random_seed(0)
    model = network(FakeAttention)
    images = np.random.default_rng(0).random((3, 8, 8, 1)).astype("float32")
    gates, note = collect_gates(model, FakeAttention, images)
    assert note is None
    assert sorted(gates) == [
        "block0_channel",
        "block0_spatial",
        "block1_channel",
        "block1_spatial",
        "images",
    ]
    assert gates["block0_channel"].shape == (3, 4)
    assert gates["block0_spatial"].shape == (3, 8, 8)
    assert gates["block1_channel"].shape == (3, 6)
    assert gates["block1_spatial"].shape == (3, 4, 4)
    # Recompute the first block's gates in NumPy from its input (the first conv's output).
    first = keras.Model(model.input, model.get_layer("first").output)(images)
    first = np.asarray(first)
    block = [layer for layer in model.layers if isinstance(layer, FakeAttention)][0]
    kernel, bias = (np.asarray(w) for w in block.dense.weights)
    channel = 1 / (1 + np.exp(-(first.mean(axis=(1, 2)) @ kernel + bias)))
    spatial = 1 / (1 + np.exp(-(first * channel[:, None, None, :]).mean(axis=-1)))
    np.testing.assert_allclose(gates["block0_channel"], channel, rtol=1e-5)
    np.testing.assert_allclose(gates["block0_spatial"], spatial, rtol=1e-5)


def test_a_layer_without_the_flag_gives_a_note_instead_of_maps():
    model = network(OldAttention)
    gates, note = collect_gates(model, OldAttention, np.zeros((1, 8, 8, 1), "float32"))
    assert gates == {}
    assert note == (
        "OldAttention.call() does not take return_attention_scores, so its gates "
        "cannot be read"
    )


def _row(spec: str, seed: int, accuracy: float) -> Row:
    return Row(
        spec,
        seed,
        100,
        2.0,
        accuracy + 0.1,
        accuracy,
        accuracy,
        f"{seed}",
        {"val_accuracy": {0: accuracy / 2, 1: accuracy}},
    )


def test_the_report_shows_each_blocks_maps_or_says_why_not(tmp_path: Path):
    keras.utils.set_random_seed(0)
    model = network(FakeAttention)
    images = np.random.default_rng(1).random((4, 8, 8, 1)).astype("float32")
    gates, _ = collect_gates(model, FakeAttention, images)
    np.savez(tmp_path / "gates.npz", **gates)
    results = Results(
        ["baseline", "fake", "old"],
        rows=[
            _row(label, seed, 0.5 + 0.1 * seed)
            for label in ("baseline", "fake", "old")
            for seed in (0, 1)
        ],
        maps={
            "fake": tmp_path / "gates.npz",
            "old": "OldAttention.call() does not take it",
        },
    )
    out = tmp_path / "out"
    out.mkdir()
    setup = report.Setup("cbamgen compare ...", "digits", "resnet", "1 epoch", [0, 1])
    report.write(results, setup, out)
    text = (out / "report.md").read_text()
    assert "### fake\n\n![attention gates of fake](attention_fake.png)" in text
    assert "### old\n\nNo maps: OldAttention.call() does not take it." in text
    picture = (out / "attention_fake.png").read_bytes()
    assert picture.startswith(PNG_SIGNATURE) and len(picture) > 10_000
    assert not list(out.glob(".*"))  # no temporary file left behind


def test_a_failed_write_leaves_the_previous_report_whole(tmp_path: Path, monkeypatch):
    results = Results(["baseline"], rows=[_row("baseline", 0, 0.5)])
    setup = report.Setup("cbamgen compare ...", "digits", "resnet", "1 epoch", [0])
    report.write(results, setup, tmp_path)
    before = (tmp_path / "report.md").read_text()

    def broken(*args, **kwargs):
        raise RuntimeError("matplotlib fell over")

    monkeypatch.setattr(plots, "speed", broken)
    results.rows.append(_row("baseline", 1, 0.7))
    with pytest.raises(RuntimeError):
        report.write(results, setup, tmp_path)
    assert (tmp_path / "report.md").read_text() == before


def test_gates_as_large_as_the_input_are_drawn_as_their_channel_mean():
    """A coordinate, energy or BAM block scores a gate per element: the report draws
    its mean over the channels, and a constant one is named as what it is."""
    from cbamgen.compare.attention import _as_maps
    from cbamgen.compare.gates import constant_gates

    full = np.stack([np.full((4, 5, 3), 0.25), np.full((4, 5, 3), 0.25)])
    found = _as_maps(1, {"coordinate": full}, np.asarray)
    assert set(found) == {"block1_spatial", "block1_source"}
    assert found["block1_spatial"].shape == (2, 4, 5)
    (note,) = constant_gates(found)
    assert "coordinate (averaged over channels) branch" in note
    both = _as_maps(
        0, {"channel": np.ones((2, 3)), "spatial": np.ones((2, 4, 5))}, np.asarray
    )
    assert set(both) == {"block0_channel", "block0_spatial"}


@pytest.mark.parametrize(
    "stem, cls, hidden",
    [("cbam", "CBAM", 2), ("timm_scoord", "TimmSimpleCoord", 8), ("eca", "ECA", None)],
)
def test_the_hidden_width_is_found_in_channel_mlps_and_coordinate_bottlenecks(
    stem, cls, hidden
):
    """What bench and the reports use to flag narrow bottlenecks (32 channels)."""
    from cbamgen.compare.gates import hidden_width
    from cbamgen.source_module import import_source

    source = (Path("generated") / f"{stem}.py").read_text(encoding="utf-8")
    layer = getattr(import_source(source), cls)()
    layer.build((None, 8, 8, 32))
    assert hidden_width(layer) == hidden
