"""The golden reference: a block's inference-mode forward pass in plain NumPy.

Written for clarity, in float64, straight from the formulas of the spec language and
the papers. It shares no code with the planner, the templates or any generated file:
tests compare the generated layers against it, so it must be able to disagree with
them. Every catalogue entry has its function here, under its name: pools
(:mod:`.pools`), excitations (:mod:`.excitations`), branches (:mod:`.branches`),
fusions and gamma modes (:mod:`.fusions`), gates and activations (:mod:`.ops`).

``weights`` maps the stable weight names of the generated layer (``channel_hidden/kernel``,
``spatial_conv/kernel``, ``spatial_norm/moving_mean``, ``gamma``, ``channel_pool0_p`` ...)
to arrays. Keras layouts: Dense kernels are (inputs, units), Conv2D kernels
(kh, kw, in, out), Conv1D kernels (k, in, out).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from .branches import BRANCHES
from .excitations import EXCITATIONS, adaptive_kernel_size, hidden_width
from .fusions import FUSIONS, GAMMAS, LOGIT_GATES
from .ops import ACTIVATIONS, GATES, conv1d_same, conv2d_same, hard_sigmoid, sigmoid
from .pools import POOL_FUNCTIONS, extent_pool, pool, spread, window_pool

Weights = Mapping[str, np.ndarray]

__all__ = [
    "ACTIVATIONS",
    "BRANCHES",
    "EXCITATIONS",
    "FUSIONS",
    "GAMMAS",
    "GATES",
    "POOL_FUNCTIONS",
    "adaptive_kernel_size",
    "conv1d_same",
    "conv2d_same",
    "extent_pool",
    "forward",
    "gates",
    "hard_sigmoid",
    "hidden_width",
    "pool",
    "sigmoid",
    "spread",
    "window_pool",
]


def _float64(weights: Weights, x) -> tuple[dict, np.ndarray]:
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    return weights, np.asarray(x, dtype=np.float64)


def _to_nhwc(spec, x):
    return x.transpose(0, 2, 3, 1) if spec.data_format == "channels_first" else x


def forward(spec, weights: Weights, x: np.ndarray) -> np.ndarray:
    """The block's output for input ``x`` in inference mode, in float64."""
    weights, x = _float64(weights, x)
    y = forward_nhwc(spec, weights, _to_nhwc(spec, x))
    return y.transpose(0, 3, 1, 2) if spec.data_format == "channels_first" else y


def _effects(spec, weights):
    return {
        kind: (lambda t, kind=kind, b=b: BRANCHES[kind](b, t, weights))
        for kind, b in spec.branches().items()
    }


def forward_nhwc(spec, weights: Weights, x: np.ndarray) -> np.ndarray:
    effects = _effects(spec, weights)
    if len(effects) == 1:
        (effect,) = effects.values()
        y = effect(x).apply(x)
    else:
        y = FUSIONS[spec.fusion](effects["channel"], effects["spatial"], x)
    gamma = float(weights["gamma"]) if spec.gamma_mode != "none" else None
    return GAMMAS[spec.gamma_mode](x, y, gamma)


def gates_nhwc(spec, weights: Weights, x: np.ndarray) -> dict[str, np.ndarray]:
    """The gates the block multiplies by, channels-last: "channel" (B, C) (with an
    extent: (B, H, W, C)), "spatial" (B, H, W), "coordinate" and "energy"
    (B, H, W, C); with a fusion on logits, "attention" (B, H, W, C). In sequential
    fusion the spatial gate sees the channel branch's output; spatial first, the
    reverse. A channel branch that only adds has no gate."""
    effects = _effects(spec, weights)
    if "channel" in effects and "spatial" in effects:
        c, s = effects["channel"], effects["spatial"]
        if spec.fusion in LOGIT_GATES:
            gate = LOGIT_GATES[spec.fusion](c, s, x)
            return {"attention": np.broadcast_to(gate, x.shape)}
        if spec.fusion == "sequential":
            a = c(x)
            found = {"channel": a, "spatial": s(a.apply(x))}
        elif spec.fusion == "spatial_first":
            gate = s(x)
            found = {"channel": c(gate.apply(x)), "spatial": gate}
        else:
            found = {"channel": c(x), "spatial": s(x)}
    else:
        found = {kind: effect(x) for kind, effect in effects.items()}
    out = {}
    for kind, effect in found.items():
        if not effect.multiply:
            continue
        gate = (
            np.broadcast_to(effect.gate, x.shape)
            if kind in ("coordinate",)
            else effect.gate
        )
        if kind == "channel" and spec.channel.extent == "global":
            gate = gate[:, 0, 0, :]
        elif kind == "spatial":
            gate = gate[..., 0]
        out[kind] = gate
    return out


def gates(spec, weights: Weights, x: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`gates_nhwc` for an input in the spec's layout (float64); gates as large
    as the input come in its layout."""
    weights, x = _float64(weights, x)
    found = gates_nhwc(spec, weights, _to_nhwc(spec, x))
    if spec.data_format == "channels_first":
        found = {
            k: g.transpose(0, 3, 1, 2) if g.ndim == 4 else g for k, g in found.items()
        }
    return found
