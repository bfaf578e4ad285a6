"""The gates a trained network's attention blocks apply to a few validation images.

Generated layers follow Keras's convention (``keras.layers.MultiHeadAttention``):
``call(inputs, training=None, return_attention_scores=False)`` returns
``(outputs, scores)`` when asked, ``scores`` a dict with ``"channel"`` (batch, C) and
``"spatial"`` (batch, H, W) for the branches the block has, and gates as large as the
input (batch, H, W, C) for the others (a coordinate or energy branch, BAM's fusion, a
channel branch with an extent): those are shown as a map, their mean over the
channels. Each block is run on its own input, taken from the functional network.
"""

from __future__ import annotations

import inspect

import numpy as np

from .gates import hidden_width

FLAG = "return_attention_scores"


def supports_scores(layer_class) -> bool:
    return FLAG in inspect.signature(layer_class.call).parameters


def _as_maps(index: int, scores: dict, to_numpy) -> dict[str, np.ndarray]:
    """A block's scores as the report draws them: a per-channel gate (images, C) as
    ``channel``, a map (images, H, W) as ``spatial``; a gate as large as the input
    (images, H, W, C, channels-last) as a map, its mean over the channels, when the
    block has no spatial gate of its own (``source`` then names the gate it comes
    from)."""
    found = {}
    for name, score in scores.items():
        values = to_numpy(score)
        if values.ndim == 2:
            found[f"block{index}_channel"] = values
        elif values.ndim == 3:
            found[f"block{index}_spatial"] = values
        elif values.ndim == 4 and f"block{index}_spatial" not in found:
            if "spatial" not in scores:
                found[f"block{index}_spatial"] = values.mean(axis=-1)
                found[f"block{index}_source"] = np.array(name)
    return found


def collect_gates(
    model, layer_class, images: np.ndarray
) -> tuple[dict[str, np.ndarray], str | None]:
    """``({"images": ..., "block0_channel": ..., "block0_spatial": ...,
    "block0_hidden": ..., ...}, None)`` in the order the blocks appear (``hidden``: the
    width of the block's channel MLP, if it has one), or ``({}, why not)``."""
    if not supports_scores(layer_class):
        return {}, (
            f"{layer_class.__name__}.call() does not take {FLAG}, so its gates cannot "
            "be read"
        )
    import keras

    blocks = [layer for layer in model.layers if isinstance(layer, layer_class)]
    if not blocks:
        return {}, "the network has no attention layer at its top level"
    gates = {"images": images}
    for index, block in enumerate(blocks):
        try:
            inputs = keras.Model(model.input, block.input)(images, training=False)
        except (AttributeError, ValueError) as exc:
            return (
                {},
                f"cannot reach the attention layers' inputs ({exc}); maps need a functional network",
            )
        _, scores = block(inputs, training=False, **{FLAG: True})
        gates.update(_as_maps(index, scores, keras.ops.convert_to_numpy))
        hidden = hidden_width(block)
        if hidden is not None:
            gates[f"block{index}_hidden"] = np.array(hidden)
    return gates, None
