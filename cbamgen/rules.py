"""Rules that relate several keys of a spec, each reported at the key that breaks it.

A key that has no effect where it is written is an error, not a silent no-op: a user who
writes ``norm_momentum`` without ``norm: batch`` believes the block has batch norm.
"""

from __future__ import annotations

from collections.abc import Iterator

from .errors import KeyPath
from .spec import ChannelBranch, SpatialBranch, Spec

#: Targets this version renders; the others are part of the language but not built yet.
RENDERABLE_TARGETS = ("keras3",)

MLP_ONLY = ("reduction", "hidden", "rounding", "divisor", "min_hidden", "activation")
WIDTH_KEYS = ("reduction", "rounding", "divisor", "min_hidden")
NORM_KEYS = ("norm_momentum", "norm_epsilon")

Problem = tuple[KeyPath, str, bool]  # path, message, point at the key (not the value)


def check(spec: Spec, raw: dict) -> Iterator[Problem]:
    """Yield every cross-key problem of a structurally valid spec."""
    yield from _top_level(spec, raw)
    if spec.channel is not None:
        yield from _channel(spec.channel)
    if spec.spatial is not None:
        yield from _spatial(spec.spatial)


def _top_level(spec: Spec, raw: dict) -> Iterator[Problem]:
    for branch in ("channel", "spatial"):
        if branch in raw and raw[branch] is None:
            yield (
                (branch,),
                f"'{branch}:' is empty; write '{branch}: {{}}' for the default "
                f"{branch} branch, or remove the key",
                False,
            )
    if (
        spec.channel is None
        and spec.spatial is None
        and not any(raw.get(b, 1) is None for b in ("channel", "spatial"))
    ):
        yield (
            (),
            "a block needs a 'channel' branch, a 'spatial' branch, or both",
            False,
        )
    if spec.target not in RENDERABLE_TARGETS:
        yield (
            ("target",),
            f"target '{spec.target}' is not supported yet by this cbamgen "
            f"version; use {' or '.join(map(repr, RENDERABLE_TARGETS))}",
            False,
        )
    one_branch = spec.channel is None or spec.spatial is None
    if one_branch and spec.fusion != "sequential":
        yield (
            ("fusion",),
            f"fusion '{spec.fusion}' combines two branches but the block has "
            "one; remove 'fusion' or add the other branch",
            False,
        )
    if (
        spec.gamma is not None
        and spec.gamma.mode == "none"
        and "init" in spec.gamma.model_fields_set
    ):
        yield (
            ("gamma", "init"),
            "'init' has no effect with mode 'none'; remove it or "
            "choose mode 'blend' or 'residual'",
            True,
        )


def _channel(branch: ChannelBranch) -> Iterator[Problem]:
    given = branch.model_fields_set
    if branch.excite != "mlp":
        for key in MLP_ONLY:
            if key in given:
                yield (
                    ("channel", key),
                    f"'{key}' only applies to excite: mlp (this branch "
                    f"uses excite: {branch.excite}); remove it",
                    True,
                )
    if branch.excite != "conv1d" and "kernel_size" in given:
        yield (
            ("channel", "kernel_size"),
            "'kernel_size' only applies to excite: conv1d; " "remove it",
            True,
        )
    if branch.excite == "conv1d" and "bias" in given:
        yield (
            ("channel", "bias"),
            "excite: conv1d has no bias (ECA-Net); remove 'bias'",
            True,
        )
    if branch.hidden is not None:
        for key in WIDTH_KEYS:
            if key in given:
                yield (
                    ("channel", key),
                    f"'hidden' sets the width directly, so '{key}' has no "
                    "effect; remove one of them",
                    True,
                )
    for index, pool in enumerate(branch.pools):
        if pool.window is not None:
            yield (
                ("channel", "pools", index, "window"),
                "window pooling is for the spatial "
                "branch only; the channel branch pools each whole map",
                True,
            )
    yield from _pool_rules("channel", branch.pools)


def _spatial(branch: SpatialBranch) -> Iterator[Problem]:
    if branch.norm != "batch":
        for key in NORM_KEYS:
            if key in branch.model_fields_set:
                yield (
                    ("spatial", key),
                    f"'{key}' only applies with norm: batch; add "
                    "'norm: batch' or remove it",
                    True,
                )
    yield from _pool_rules("spatial", branch.pools)


def _pool_rules(branch: str, pools: list) -> Iterator[Problem]:
    for index, pool in enumerate(pools):
        if pool.kind == "mixed" and pool.trainable and pool.alpha in (0, 1):
            yield (
                (branch, "pools", index, "alpha"),
                "a trainable alpha is kept in (0, 1) by a "
                "sigmoid, so it cannot start at 0 or 1; use e.g. 0.01 or 0.99",
                True,
            )
