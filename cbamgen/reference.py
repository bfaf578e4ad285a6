"""The golden reference: a block's inference-mode forward pass in plain NumPy.

Written for clarity, in float64, straight from the formulas of the spec language. It
shares no code with the planner, the templates or any generated file: tests compare the
generated layers against it, so it must be able to disagree with them.

``weights`` maps the stable weight names of the generated layer (``channel_hidden/kernel``,
``spatial_conv/kernel``, ``spatial_norm/moving_mean``, ``gamma``, ``channel_pool0_p`` ...)
to arrays. Keras layouts: Dense kernels are (inputs, units), Conv2D kernels
(kh, kw, in, out), Conv1D kernels (k, in, out).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from .catalogue import POOLS
from .spec import ChannelBranch, SpatialBranch, Spec

Weights = Mapping[str, np.ndarray]


# ---------------------------------------------------------------------------- pools
# Each reduces `x` over `axis` (removing it).


def avg(x, axis):
    return x.mean(axis=axis)


def max_(x, axis):
    return x.max(axis=axis)


def lp(x, axis, p=2, normalize="mean"):
    powered = np.abs(x) ** p
    total = powered.mean(axis=axis) if normalize == "mean" else powered.sum(axis=axis)
    return total ** (1.0 / p)


def l2(x, axis):
    return np.sqrt((x**2).mean(axis=axis))


def lse(x, axis, r=1.0, normalize="mean"):
    peak = x.max(axis=axis, keepdims=True)
    exps = np.exp(r * (x - peak))
    total = exps.mean(axis=axis) if normalize == "mean" else exps.sum(axis=axis)
    return np.squeeze(peak, axis=axis) + np.log(total) / r


def stochastic(x, axis, weights="relu", sampler="fast"):
    """Inference mode: the probability-weighted average; all-zero weights give 0. (The
    sampler changes how training draws, not what it draws.)"""
    if weights == "relu":
        w = np.maximum(x, 0.0)
    else:
        w = np.exp(x - x.max(axis=axis, keepdims=True))
    total = w.sum(axis=axis)
    weighted = (w * x).sum(axis=axis)
    return np.divide(weighted, total, out=np.zeros_like(weighted), where=total > 0)


def gem(x, axis, p=3.0, eps=1e-6, trainable=True):
    return (np.maximum(x, eps) ** p).mean(axis=axis) ** (1.0 / p)


def mixed(x, axis, alpha=0.5, trainable=False):
    return alpha * x.max(axis=axis) + (1.0 - alpha) * x.mean(axis=axis)


def softpool(x, axis):
    w = np.exp(x - x.max(axis=axis, keepdims=True))
    return (w * x).sum(axis=axis) / w.sum(axis=axis)


POOL_FUNCTIONS = {
    "avg": avg,
    "max": max_,
    "lp": lp,
    "l2": l2,
    "lse": lse,
    "stochastic": stochastic,
    "gem": gem,
    "mixed": mixed,
    "softpool": softpool,
}
assert set(POOL_FUNCTIONS) == set(POOLS), "reference and catalogue disagree"


def pool(spec_pool, x, axis, weights: Weights, name: str):
    """Apply one pool of a spec; learnable parameters come from ``weights``."""
    settings = spec_pool.settings()
    if spec_pool.kind == "gem" and spec_pool.trainable:
        settings["p"] = float(weights[f"{name}_p"])
    if spec_pool.kind == "mixed" and spec_pool.trainable:
        settings["alpha"] = sigmoid(float(weights[f"{name}_alpha_logit"]))
    return POOL_FUNCTIONS[spec_pool.kind](x, axis, **settings)


def window_pool(spec_pool, x, weights: Weights, name: str):
    """x (B, H, W, C) -> (B, H, W, C): the pool over each channel's window x window
    neighbourhood of every pixel, the window clipped at the borders of the map."""
    batch, height, width, channels = x.shape
    half = spec_pool.window // 2
    out = np.empty(x.shape)
    for i in range(height):
        for j in range(width):
            region = x[
                :, max(i - half, 0) : i + half + 1, max(j - half, 0) : j + half + 1
            ]
            region = region.reshape(batch, -1, channels)
            out[:, i, j, :] = pool(spec_pool, region, 1, weights, name)
    return out


# ---------------------------------------------------------------------- activations


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def hard_sigmoid(z):
    return np.clip(z / 6.0 + 0.5, 0.0, 1.0)


_erf = np.vectorize(math.erf)

ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "gelu": lambda z: 0.5 * z * (1.0 + _erf(z / math.sqrt(2.0))),
    "silu": lambda z: z * sigmoid(z),
    "tanh": np.tanh,
}
GATES = {"sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid}


# -------------------------------------------------------------------- hidden width


def hidden_width(branch: ChannelBranch, channels: int) -> int:
    """Hidden units of the channel MLP for ``channels`` input channels (SPEC-v1 rule)."""
    if branch.hidden is not None:
        return branch.hidden
    v = channels / branch.reduction
    d = branch.divisor
    h = (
        math.floor(v / d) * d
        if branch.rounding == "floor"
        else math.floor(v / d + 0.5) * d
    )
    return max(h, d, branch.min_hidden)


def adaptive_kernel_size(channels: int) -> int:
    t = int(abs(math.log2(channels) + 1) / 2)
    k = t if t % 2 == 1 else t + 1
    return max(k, 3)


# ------------------------------------------------------------------- convolutions


def _same_pads(kernel: int, dilation: int) -> tuple[int, int]:
    span = (kernel - 1) * dilation
    return span // 2, span - span // 2


def conv2d_same(x, kernel, bias=None, dilation=1):
    """x (B, H, W, Cin), kernel (kh, kw, Cin, Cout), stride 1, zero 'same' padding."""
    kh, kw = kernel.shape[:2]
    (top, bottom), (left, right) = _same_pads(kh, dilation), _same_pads(kw, dilation)
    padded = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    height, width = x.shape[1:3]
    out = np.zeros(x.shape[:3] + (kernel.shape[3],))
    for i in range(kh):
        for j in range(kw):
            window = padded[
                :,
                i * dilation : i * dilation + height,
                j * dilation : j * dilation + width,
                :,
            ]
            out += window @ kernel[i, j]
    return out if bias is None else out + bias


def conv1d_same(x, kernel):
    """x (B, L, Cin), kernel (k, Cin, Cout), stride 1, zero 'same' padding, no bias."""
    k = kernel.shape[0]
    before, after = _same_pads(k, 1)
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    length = x.shape[1]
    return sum(padded[:, j : j + length, :] @ kernel[j] for j in range(k))


# ------------------------------------------------------------------------ branches


def _dense(x, weights: Weights, name: str):
    out = x @ weights[f"{name}/kernel"]
    bias = weights.get(f"{name}/bias")
    return out if bias is None else out + bias


def _excite(branch: ChannelBranch, d, weights: Weights):
    """Excitation of one (B, width) input -> (B, C) logits, for mlp and linear."""
    if branch.excite == "mlp":
        hidden = ACTIVATIONS[branch.activation](_dense(d, weights, "channel_hidden"))
        return _dense(hidden, weights, "channel_out")
    return _dense(d, weights, "channel_out")


def channel_gate(branch: ChannelBranch, x, weights: Weights):
    """x (B, H, W, C) -> a (B, C), from pooled descriptors."""
    b, h, w, c = x.shape
    regions = x.reshape(b, h * w, c)
    descriptors = [
        pool(p, regions, 1, weights, f"channel_pool{i}")
        for i, p in enumerate(branch.pools)
    ]
    if branch.excite == "conv1d":
        kernel = weights["channel_conv1d/kernel"]
        if branch.combine == "sum":
            logits = sum(conv1d_same(d[:, :, None], kernel) for d in descriptors)
        else:
            logits = conv1d_same(np.stack(descriptors, axis=-1), kernel)
        logits = logits[:, :, 0]
    elif branch.combine == "sum":
        logits = sum(_excite(branch, d, weights) for d in descriptors)
    else:
        logits = _excite(branch, np.concatenate(descriptors, axis=-1), weights)
    return GATES[branch.gate](logits)


def spatial_gate(branch: SpatialBranch, x, weights: Weights):
    """x (B, H, W, C) -> s (B, H, W), from maps pooled across channels (one per pool)
    or, for window pools, over each channel's neighbourhoods (C per pool)."""
    maps = []
    for index, spec_pool in enumerate(branch.pools):
        name = f"spatial_pool{index}"
        if spec_pool.window is None:
            maps.append(pool(spec_pool, x, -1, weights, name)[..., None])
        else:
            maps.append(window_pool(spec_pool, x, weights, name))
    maps = np.concatenate(maps, axis=-1)
    z = conv2d_same(
        maps,
        weights["spatial_conv/kernel"],
        weights.get("spatial_conv/bias"),
        branch.dilation,
    )
    if branch.norm == "batch":
        mean = weights["spatial_norm/moving_mean"]
        variance = weights["spatial_norm/moving_variance"]
        z = (z - mean) / np.sqrt(variance + branch.norm_epsilon)
        z = z * weights["spatial_norm/gamma"] + weights["spatial_norm/beta"]
    return GATES[branch.gate](z)[..., 0]


# --------------------------------------------------------------------------- block


def forward(spec: Spec, weights: Weights, x: np.ndarray) -> np.ndarray:
    """The block's output for input ``x`` in inference mode, in float64."""
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    x = np.asarray(x, dtype=np.float64)
    if spec.data_format == "channels_first":
        return forward_nhwc(spec, weights, x.transpose(0, 2, 3, 1)).transpose(
            0, 3, 1, 2
        )
    return forward_nhwc(spec, weights, x)


def gates_nhwc(spec: Spec, weights: Weights, x: np.ndarray) -> dict[str, np.ndarray]:
    """The gates the block multiplies by: "channel" (B, C), "spatial" (B, H, W). In
    sequential fusion the spatial gate sees x * a; spatial first, the reverse."""
    c = (lambda t: channel_gate(spec.channel, t, weights)) if spec.channel else None
    s = (lambda t: spatial_gate(spec.spatial, t, weights)) if spec.spatial else None
    if c and s and spec.fusion == "sequential":
        a = c(x)
        return {"channel": a, "spatial": s(x * a[:, None, None, :])}
    if c and s and spec.fusion == "spatial_first":
        gate = s(x)
        return {"channel": c(x * gate[..., None]), "spatial": gate}
    return {**({"channel": c(x)} if c else {}), **({"spatial": s(x)} if s else {})}


def gates(spec: Spec, weights: Weights, x: np.ndarray) -> dict[str, np.ndarray]:
    """:func:`gates_nhwc` for an input in the spec's layout (float64)."""
    weights = {k: np.asarray(v, dtype=np.float64) for k, v in weights.items()}
    x = np.asarray(x, dtype=np.float64)
    if spec.data_format == "channels_first":
        x = x.transpose(0, 2, 3, 1)
    return gates_nhwc(spec, weights, x)


def forward_nhwc(spec: Spec, weights: Weights, x: np.ndarray) -> np.ndarray:
    g = gates_nhwc(spec, weights, x)
    a = g["channel"][:, None, None, :] if "channel" in g else None
    s = g["spatial"][..., None] if "spatial" in g else None
    if a is None:
        y = x * s
    elif s is None:
        y = x * a
    else:
        y = {
            "sequential": lambda: x * a * s,
            "spatial_first": lambda: x * s * a,
            "add": lambda: x * a + x * s,
            "multiply": lambda: (x * a) * (x * s),
            "mean": lambda: (x * a + x * s) / 2.0,
        }[spec.fusion]()
    if spec.gamma_mode == "blend":
        gamma = float(weights["gamma"])
        return (1.0 - gamma) * x + gamma * y
    if spec.gamma_mode == "residual":
        return x + float(weights["gamma"]) * y
    return y
