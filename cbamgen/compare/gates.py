"""Gates that learned nothing: the same value for every image.

A channel MLP with very few hidden units can lose them all (every hidden ReLU dead:
zero output, zero gradient), and then the channel gate is sigmoid of the output bias,
the same for every image: 0.5 for each channel without biases. Such a block only
rescales its input. Found in a trained block with 32 channels and reduction 16 (two
hidden units), where a learnable GeM exponent also stayed at its initial 3.0.
"""

from __future__ import annotations

import numpy as np

#: A gate whose values vary less than this across images is constant.
THRESHOLD = 1e-3


def hidden_width(layer) -> int | None:
    """The hidden units of a layer's channel MLP or coordinate bottleneck (its
    ``channel_hidden`` or ``coordinate_hidden`` weights), or None when it has
    neither."""
    for variable in layer.weights:
        if variable.path.endswith(
            ("channel_hidden/kernel", "coordinate_hidden/kernel")
        ):
            return int(variable.shape[-1])
    return None


def constant_gates(gates: dict[str, np.ndarray]) -> list[str]:
    """A sentence per gate of ``gates`` (``block<i>_channel`` (images, C),
    ``block<i>_spatial`` (images, H, W), ``block<i>_hidden``) that is the same for every
    image, with what to change."""
    notes = []
    for key in sorted(k for k in gates if k.endswith(("_channel", "_spatial"))):
        values = np.asarray(gates[key], dtype=np.float64)
        if len(values) < 2:
            continue
        spread = float(np.max(np.ptp(values, axis=0)))
        if spread >= THRESHOLD:
            continue
        block, branch = key.split("_")
        source = gates.get(f"{block}_source")
        if source is not None:  # a map averaged from a gate as large as the input
            branch = f"{source} (averaged over channels)"
        what = (
            f"a constant {values.mean():.3f}"
            if np.ptp(values) < THRESHOLD
            else "the same for every image"
        )
        note = (
            f"{block}'s {branch} gate is {what} over {len(values)} validation images "
            f"(largest change across images {spread:.1e}): the block only rescales "
            "its input."
        )
        hidden = gates.get(f"{block}_hidden")
        if branch == "channel" and hidden is not None:
            note += (
                f" Its MLP has {int(hidden)} hidden unit(s) for {values.shape[-1]} "
                "channels: likely every hidden ReLU is dead. Give it more units: a "
                "smaller `reduction`, or `min_hidden: 8`."
            )
        else:
            note += (
                f" The {branch} branch learned no dependence on the image: try "
                "other pools, or more epochs."
            )
        notes.append(note)
    return notes
