"""The elementary operations of the reference: gates, activations, convolutions and
norms, in float64 NumPy, written from their definitions."""

from __future__ import annotations

import math

import numpy as np


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
    "hard_swish": lambda z: z * hard_sigmoid(z),
    "none": lambda z: z,
}
GATES = {"sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid}


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


def conv1d_same(x, kernel, bias=None, circular=False):
    """x (B, L, Cin), kernel (k, Cin, Cout), stride 1, 'same' padding with zeros or,
    ``circular``, with the sequence's other end."""
    k = kernel.shape[0]
    before, after = _same_pads(k, 1)
    if circular:  # as often round the ring as it takes
        padded = x[:, np.arange(-before, x.shape[1] + after) % x.shape[1]]
    else:
        padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    length = x.shape[1]
    out = sum(padded[:, j : j + length, :] @ kernel[j] for j in range(k))
    return out if bias is None else out + bias


def depthwise_same(x, kernel, bias=None):
    """x (B, L, C) convolved along L, each channel with its own kernel (k, C), zero
    'same' padding."""
    k = kernel.shape[0]
    before, after = _same_pads(k, 1)
    padded = np.pad(x, ((0, 0), (before, after), (0, 0)))
    length = x.shape[1]
    out = sum(padded[:, j : j + length, :] * kernel[j] for j in range(k))
    return out if bias is None else out + bias


def batch_norm(z, weights, name: str, epsilon: float):
    """Inference mode: the moving statistics, per channel (the last axis)."""
    mean = weights[f"{name}/moving_mean"]
    variance = weights[f"{name}/moving_variance"]
    z = (z - mean) / np.sqrt(variance + epsilon)
    return z * weights[f"{name}/gamma"] + weights[f"{name}/beta"]


def layer_norm(z, weights, name: str, epsilon: float):
    """Over the last axis, then a scale and shift per unit."""
    mean = z.mean(axis=-1, keepdims=True)
    variance = z.var(axis=-1, keepdims=True)
    z = (z - mean) / np.sqrt(variance + epsilon)
    return z * weights[f"{name}/gamma"] + weights[f"{name}/beta"]


def group_norm(z, weights, name: str, epsilon: float):
    """One group: over every axis but the batch's, then a scale and shift per
    channel (the last axis)."""
    axes = tuple(range(1, z.ndim))
    mean = z.mean(axis=axes, keepdims=True)
    variance = z.var(axis=axes, keepdims=True)
    z = (z - mean) / np.sqrt(variance + epsilon)
    return z * weights[f"{name}_gamma"] + weights[f"{name}_beta"]


NORMS = {"batch": batch_norm, "layer": layer_norm, "group": group_norm}


def norm(kind: str, z, weights, name: str, epsilon: float):
    return z if kind == "none" else NORMS[kind](z, weights, name, epsilon)


def dense(x, weights, name: str):
    out = x @ weights[f"{name}/kernel"]
    bias = weights.get(f"{name}/bias")
    return out if bias is None else out + bias
