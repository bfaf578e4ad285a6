"""The fusions and gamma modes of the reference: effects of branches to an output."""

from __future__ import annotations

import numpy as np

from .ops import sigmoid


def sequential(channel, spatial, x):
    """The spatial branch sees the channel branch's output."""
    y = channel(x).apply(x)
    return spatial(y).apply(y)


def spatial_first(channel, spatial, x):
    y = spatial(x).apply(x)
    return channel(y).apply(y)


def add(channel, spatial, x):
    return channel(x).apply(x) + spatial(x).apply(x)


def multiply(channel, spatial, x):
    return channel(x).apply(x) * spatial(x).apply(x)


def mean(channel, spatial, x):
    return (channel(x).apply(x) + spatial(x).apply(x)) / 2.0


def max_(channel, spatial, x):
    return np.maximum(channel(x).apply(x), spatial(x).apply(x))


def bam(channel, spatial, x):
    return x * bam_gate(channel, spatial, x)


def bam_product(channel, spatial, x):
    return x * bam_product_gate(channel, spatial, x)


def bam_gate(channel, spatial, x):
    """BAM's factor of x, from the branches' logits: 1 + sigmoid(Mc + Ms)."""
    return 1.0 + sigmoid(channel(x).logits + spatial(x).logits)


def bam_product_gate(channel, spatial, x):
    return 1.0 + sigmoid(channel(x).logits * spatial(x).logits)


FUSIONS = {
    "sequential": sequential,
    "spatial_first": spatial_first,
    "add": add,
    "multiply": multiply,
    "mean": mean,
    "max": max_,
    "bam": bam,
    "bam_product": bam_product,
}

#: The fusions that gate the branches' logits themselves: their factor of x.
LOGIT_GATES = {"bam": bam_gate, "bam_product": bam_product_gate}

GAMMAS = {
    "none": lambda x, y, gamma: y,
    "blend": lambda x, y, gamma: (1.0 - gamma) * x + gamma * y,
    "residual": lambda x, y, gamma: x + gamma * y,
}
