"""Spec keys that several parts of a branch share, each defined once.

A part (an excitation, a norm, the hidden-width rule) lists the keys it reads; the
branch's model is assembled from the keys of its parts, in the order given here, so
that each key has one type, one default and one description wherever it appears.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from ..fields import number
from .gates import ACTIVATIONS


@dataclass(frozen=True)
class Key:
    """One spec key: its type, default and what it does."""

    annotation: Any
    default: Any
    description: str


#: The hidden width of an excitation's bottleneck, from the channels: C / reduction,
#: rounded (floor or nearest) to a multiple of divisor, at least max(divisor,
#: min_hidden), plus one divisor if that fell below round_limit * C / reduction.
WIDTH = {
    "reduction": Key(number(ge=0.01, le=1e6), 16, "hidden width from C / reduction"),
    "hidden": Key(
        number(integer=True, ge=1, le=1_000_000) | None,
        None,
        "explicit hidden width (replaces reduction and its rounding keys)",
    ),
    "rounding": Key(
        Literal["floor", "nearest"],
        "floor",
        "round C / reduction down (CBAM) or to nearest (timm)",
    ),
    "divisor": Key(
        number(integer=True, ge=1, le=4096), 1, "hidden width is a multiple of this"
    ),
    "min_hidden": Key(
        number(integer=True, ge=1, le=1_000_000), 1, "hidden width is at least this"
    ),
    "round_limit": Key(
        number(ge=0, le=1),
        0,
        "add one divisor when rounding fell below round_limit * C / reduction "
        "(timm's make_divisible: 0.9)",
    ),
}
#: Keys of the width rule that 'hidden' replaces.
WIDTH_RULE = ("reduction", "rounding", "divisor", "min_hidden", "round_limit")

ACTIVATION = Key(
    Literal[tuple(ACTIVATIONS)],
    "relu",
    "hidden activation (gelu is the exact erf form; none: linear)",
)
BIAS = Key(bool, True, "biases of the excitation's layers")
KERNEL_SIZE_1D = Key(
    number(integer=True, ge=1, le=63, odd=True, also=("adaptive",)),
    "adaptive",
    "odd kernel size, or adaptive (ECA-Net's rule from C)",
)
PADDING = Key(
    Literal["zero", "circular"],
    "zero",
    "the 1-D convolution's padding across channels: zeros, or the channels as a "
    "ring (timm's CecaModule)",
)
NORM_MOMENTUM = Key(
    number(ge=0, lt=1), 0.99, "norm: batch; Keras momentum (PyTorch 0.01 = Keras 0.99)"
)
NORM_EPSILON = Key(number(gt=0, le=1), 1e-5, "the norm's epsilon")
