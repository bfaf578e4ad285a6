"""The gates a trained network's attention blocks apply to a few validation images.

Generated layers follow Keras's convention (``keras.layers.MultiHeadAttention``):
``call(inputs, training=None, return_attention_scores=False)`` returns
``(outputs, scores)`` when asked, ``scores`` a dict with ``"channel"`` (batch, C) and
``"spatial"`` (batch, H, W) for the branches the block has. Each block is run on its
own input, taken from the functional network.
"""

from __future__ import annotations

import inspect

import numpy as np

from .gates import hidden_width

FLAG = "return_attention_scores"


def supports_scores(layer_class) -> bool:
    return FLAG in inspect.signature(layer_class.call).parameters


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
        for branch in ("channel", "spatial"):
            if branch in scores:
                gates[f"block{index}_{branch}"] = keras.ops.convert_to_numpy(
                    scores[branch]
                )
        hidden = hidden_width(block)
        if hidden is not None:
            gates[f"block{index}_hidden"] = np.array(hidden)
    return gates, None
