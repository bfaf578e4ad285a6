"""The pools of the reference, each a function reducing ``x`` over ``axis``."""

from __future__ import annotations

import math

import numpy as np

from .ops import sigmoid


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


def attention(x, axis, score_kernel, score_bias):
    """x (B, N, C) over axis 1: softmax over the N pixels of scores from each pixel's
    channels (s = x . w + b), then the scores' weighted sum of each channel."""
    scores = x @ score_kernel + score_bias  # (B, N, 1)
    w = np.exp(scores - scores.max(axis=axis, keepdims=True))
    return (w * x).sum(axis=axis) / w.sum(axis=axis)


def none(x, axis):
    """No pooling: the spatial branch takes the features themselves (its caller)."""
    raise ValueError("'none' keeps the channels; it reduces nothing")


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
    "attention": attention,
    "none": none,
}


def pool(spec_pool, x, axis, weights, name: str):
    """Apply one pool of a spec; learnable parameters come from ``weights``."""
    settings = spec_pool.settings()
    if spec_pool.kind == "gem" and spec_pool.trainable:
        settings["p"] = float(weights[f"{name}_p"])
    if spec_pool.kind == "mixed" and spec_pool.trainable:
        settings["alpha"] = sigmoid(float(weights[f"{name}_alpha_logit"]))
    if spec_pool.kind == "attention":
        settings["score_kernel"] = weights[f"{name}_score/kernel"]
        settings["score_bias"] = weights[f"{name}_score/bias"]
    return POOL_FUNCTIONS[spec_pool.kind](x, axis, **settings)


def window_pool(spec_pool, x, weights, name: str):
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


def extent_pool(spec_pool, x, extent: int, weights, name: str):
    """x (B, H, W, C) -> (B, ceil(H / e), ceil(W / e), C): the pool over windows of
    2e - 1 cells with stride e, centred on every e-th cell, the windows clipped at the
    borders (gather-excite's gather)."""
    batch, height, width, channels = x.shape
    rows, cols = math.ceil(height / extent), math.ceil(width / extent)
    reach = extent - 1
    out = np.empty((batch, rows, cols, channels))
    for i in range(rows):
        for j in range(cols):
            top, left = i * extent, j * extent
            region = x[
                :,
                max(top - reach, 0) : top + reach + 1,
                max(left - reach, 0) : left + reach + 1,
            ]
            region = region.reshape(batch, -1, channels)
            out[:, i, j, :] = pool(spec_pool, region, 1, weights, name)
    return out


def spread(z, height: int, width: int):
    """z (B, h, w, C) -> (B, H, W, C) by nearest neighbour: row i takes row
    floor(i h / H) (PyTorch's 'nearest')."""
    rows = [i * z.shape[1] // height for i in range(height)]
    cols = [j * z.shape[2] // width for j in range(width)]
    return z[:, rows][:, :, cols]
