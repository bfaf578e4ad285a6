"""The excitations of the reference: pooled values to logits, by excitation name."""

from __future__ import annotations

import math

import numpy as np

from .ops import ACTIVATIONS, conv1d_same, conv2d_same, dense, depthwise_same, norm


def hidden_width(branch, channels: int) -> int:
    """Hidden units of an excitation's bottleneck for ``channels`` (SPEC-v1's rule,
    with timm's round_limit)."""
    if branch.hidden is not None:
        return branch.hidden
    v = channels / branch.reduction
    d = branch.divisor
    h = (
        math.floor(v / d) * d
        if branch.rounding == "floor"
        else math.floor(v / d + 0.5) * d
    )
    h = max(h, d, branch.min_hidden)
    return h + d if h < branch.round_limit * v else h


def adaptive_kernel_size(channels: int) -> int:
    t = int(abs(math.log2(channels) + 1) / 2)
    k = t if t % 2 == 1 else t + 1
    return max(k, 3)


# ------------------------------------------------------------------ channel branch
# Each takes the list of descriptors (B, ..., C), one per pool, and gives logits of
# the same shape.


def _per_descriptor(excite, descriptors, combine, join):
    if combine == "concat" and len(descriptors) > 1:
        return excite(join(descriptors))
    return sum(excite(join([d])) for d in descriptors)


def mlp(branch, descriptors, weights, prefix: str):
    def excite(d):
        z = dense(d, weights, f"{prefix}_hidden")
        z = norm(branch.norm, z, weights, f"{prefix}_norm", branch.norm_epsilon)
        return dense(ACTIVATIONS[branch.activation](z), weights, f"{prefix}_out")

    return _per_descriptor(
        excite, descriptors, branch.combine, lambda ds: np.concatenate(ds, axis=-1)
    )


def linear(branch, descriptors, weights, prefix: str):
    return _per_descriptor(
        lambda d: dense(d, weights, f"{prefix}_out"),
        descriptors,
        branch.combine,
        lambda ds: np.concatenate(ds, axis=-1),
    )


def _across_channels(excite, descriptors, combine):
    """Descriptors (B, 1, 1, C) as sequences of C steps, one input map each; the
    logits back as (B, 1, 1, C)."""
    flat = [d.reshape(d.shape[0], -1) for d in descriptors]
    logits = _per_descriptor(excite, flat, combine, lambda ds: np.stack(ds, axis=-1))
    return logits.reshape(descriptors[0].shape)


def conv1d(branch, descriptors, weights, prefix: str):
    """One 1-D convolution across the channels, no bias."""
    kernel = weights[f"{prefix}_conv1d/kernel"]
    circular = branch.padding == "circular"
    return _across_channels(
        lambda d: conv1d_same(d, kernel, circular=circular)[:, :, 0],
        descriptors,
        branch.combine,
    )


def conv1d_mlp(branch, descriptors, weights, prefix: str):
    """Each channel's descriptor(s) through Dense(hidden) (a 1x1 conv), the
    activation, then a k-wide conv across channels to one value, both with biases."""

    def excite(d):  # d (B, C, n)
        hidden = d @ weights[f"{prefix}_hidden/kernel"][0]  # kernel (1, n, hidden)
        hidden = hidden + weights.get(f"{prefix}_hidden/bias", 0.0)
        hidden = ACTIVATIONS[branch.activation](hidden)
        out = conv1d_same(
            hidden,
            weights[f"{prefix}_conv1d/kernel"],
            weights.get(f"{prefix}_conv1d/bias"),
            circular=branch.padding == "circular",
        )
        return out[:, :, 0]

    return _across_channels(excite, descriptors, branch.combine)


# ------------------------------------------------------------------ spatial branch
# Each takes the maps (B, H, W, M) and gives logits (B, H, W, 1).


def conv(branch, maps, weights):
    z = conv2d_same(
        maps,
        weights["spatial_conv/kernel"],
        weights.get("spatial_conv/bias"),
        branch.dilation,
    )
    return norm(branch.norm, z, weights, "spatial_norm", branch.norm_epsilon)


def bottleneck(branch, maps, weights):
    act = ACTIVATIONS[branch.activation]

    def layer(z, conv_name, norm_name, dilation=1):
        z = conv2d_same(
            z,
            weights[f"{conv_name}/kernel"],
            weights.get(f"{conv_name}/bias"),
            dilation,
        )
        return act(norm(branch.norm, z, weights, norm_name, branch.norm_epsilon))

    z = layer(maps, "spatial_reduce", "spatial_reduce_norm")
    for i in range(1, branch.depth + 1):
        z = layer(z, f"spatial_conv{i}", f"spatial_norm{i}", branch.dilation)
    return conv2d_same(
        z, weights["spatial_out/kernel"], weights.get("spatial_out/bias")
    )


# --------------------------------------------------------------- coordinate branch
# Each takes a pool's two strips, h (B, H, C) and w (B, W, C), and gives their
# logits a_h (B, H, C) and a_w (B, W, C).


def shared(branch, h, w, weights):
    """Both strips, joined along their positions, through one bottleneck (its norm
    sees them together), then one layer per axis."""
    z = dense(np.concatenate([h, w], axis=1), weights, "coordinate_hidden")
    z = norm(branch.norm, z, weights, "coordinate_norm", branch.norm_epsilon)
    z = ACTIVATIONS[branch.activation](z)
    height = h.shape[1]
    a_h = dense(z[:, :height], weights, "coordinate_height")
    a_w = dense(z[:, height:], weights, "coordinate_width")
    return a_h, a_w


def depthwise(branch, h, w, weights):
    """Each strip through its own depthwise conv along its positions, norm and
    activation."""
    out = []
    for axis, strip in (("height", h), ("width", w)):
        name = f"coordinate_{axis}_conv"
        kernel = weights[f"{name}/kernel"]  # (k, 1, C, 1) or (1, k, C, 1)
        kernel = kernel.reshape(-1, kernel.shape[2])  # (k, C)
        z = depthwise_same(strip, kernel, weights.get(f"{name}/bias"))
        z = norm(
            branch.norm, z, weights, f"coordinate_{axis}_norm", branch.norm_epsilon
        )
        out.append(ACTIVATIONS[branch.activation](z))
    return tuple(out)


EXCITATIONS = {
    "channel": {
        "mlp": mlp,
        "linear": linear,
        "conv1d": conv1d,
        "conv1d_mlp": conv1d_mlp,
    },
    "spatial": {"conv": conv, "bottleneck": bottleneck},
    "coordinate": {"shared": shared, "depthwise": depthwise},
}
