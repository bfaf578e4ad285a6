"""The branches of the reference: x (B, H, W, C) to the branch's effect on x."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .excitations import EXCITATIONS
from .ops import GATES
from .pools import extent_pool, pool, spread, window_pool


@dataclass
class Effect:
    """What a branch does to x: ``logits`` and ``gate`` (= gate(logits)) broadcast
    against x (B, H, W, C); ``multiply`` says whether x is multiplied by the gate,
    ``shift`` what is added to it (GCNet's addition)."""

    logits: np.ndarray
    gate: np.ndarray
    multiply: bool = True
    shift: np.ndarray | float = 0.0

    def apply(self, x):
        return (x * self.gate if self.multiply else x) + self.shift


def channel(branch, x, weights) -> Effect:
    """Descriptors per channel from each pool (over the map, or over an extent's
    windows), excited; a (B, 1, 1, C), or (B, H, W, C) with an extent."""
    b, h, w, c = x.shape
    if branch.extent == "global":
        regions = x.reshape(b, h * w, c)
        descriptors = [
            pool(p, regions, 1, weights, f"channel_pool{i}")[:, None, None, :]
            for i, p in enumerate(branch.pools)
        ]
    else:
        descriptors = [
            extent_pool(p, x, branch.extent, weights, f"channel_pool{i}")
            for i, p in enumerate(branch.pools)
        ]
    excite = EXCITATIONS["channel"][branch.excite]
    logits = excite(branch, descriptors, weights, "channel")
    shift = 0.0
    if branch.apply == "multiply_add":
        shift = excite(branch, descriptors, weights, "channel_add")
    if branch.extent != "global":
        logits = spread(logits, h, w)
        shift = spread(shift, h, w) if branch.apply == "multiply_add" else 0.0
    if branch.apply == "add":
        return Effect(logits, logits, multiply=False, shift=logits)
    return Effect(logits, GATES[branch.gate](logits), shift=shift)


def spatial(branch, x, weights) -> Effect:
    """Maps from each pool (one across channels, or C: windows, none), excited to
    logits; s (B, H, W, 1)."""
    maps = []
    for index, spec_pool in enumerate(branch.pools):
        name = f"spatial_pool{index}"
        if spec_pool.kind == "none":
            maps.append(x)
        elif spec_pool.window is None:
            maps.append(pool(spec_pool, x, -1, weights, name)[..., None])
        else:
            maps.append(window_pool(spec_pool, x, weights, name))
    maps = np.concatenate(maps, axis=-1)
    logits = EXCITATIONS["spatial"][branch.excite](branch, maps, weights)
    return Effect(logits, GATES[branch.gate](logits))


def coordinate(branch, x, weights) -> Effect:
    """Each pool along every row (H values per channel) and column (W values),
    excited; the logits of several pools added; gates joined by product or sum."""
    excite = EXCITATIONS["coordinate"][branch.excite]
    a_h = a_w = 0.0
    for index, spec_pool in enumerate(branch.pools):
        name = f"coordinate_pool{index}"
        rows = pool(spec_pool, x, 2, weights, name)  # (B, H, C)
        columns = pool(spec_pool, x, 1, weights, name)  # (B, W, C)
        h, w = excite(branch, rows, columns, weights)
        a_h, a_w = a_h + h, a_w + w
    a_h, a_w = a_h[:, :, None, :], a_w[:, None, :, :]
    gate = GATES[branch.gate]
    if branch.join == "add":
        logits = a_h + a_w
        return Effect(logits, gate(logits))
    return Effect(a_h + a_w, gate(a_h) * gate(a_w))


def energy(branch, x, weights) -> Effect:
    """SimAM: E = (x - mu)^2 / (4 (sum (x - mu)^2 / (n - 1) + lambda)) + 1/2 over
    each channel's n = H W values (n - 1 taken as 1 when n = 1)."""
    n = x.shape[1] * x.shape[2]
    d = (x - x.mean(axis=(1, 2), keepdims=True)) ** 2
    variance = d.sum(axis=(1, 2), keepdims=True) / max(n - 1, 1)
    logits = d / (4.0 * (variance + getattr(branch, "lambda"))) + 0.5
    return Effect(logits, GATES[branch.gate](logits))


BRANCHES = {
    "channel": channel,
    "spatial": spatial,
    "coordinate": coordinate,
    "energy": energy,
}
