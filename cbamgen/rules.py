"""Rules that relate several keys of a spec, each reported at the key that breaks it.

A key that has no effect where it is written is an error, not a silent no-op: a user who
writes ``norm_momentum`` without ``norm: batch`` believes the block has batch norm.
:func:`inactive` says which keys have no effect in a spec and why; the validator
reports those the user wrote, and ``cbamgen new`` writes them commented out.

Every rule names the keys it reads. The loader runs the rules on a spec whose invalid
parts were set aside, and drops a rule's finding when a key it reads was invalid, so a
file's errors come in one run without guesses built on a value that was rejected.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .errors import KeyPath
from .spec import ChannelBranch, SpatialBranch, Spec

MLP_ONLY = ("reduction", "hidden", "rounding", "divisor", "min_hidden", "activation")
WIDTH_KEYS = ("reduction", "rounding", "divisor", "min_hidden")
NORM_KEYS = ("norm_momentum", "norm_epsilon")


@dataclass(frozen=True)
class Problem:
    """A rule broken at ``path``; ``reads`` are the other keys the rule looked at."""

    path: KeyPath
    message: str
    at_key: bool = False  # point at the key itself, not at its value
    reads: tuple[KeyPath, ...] = ()


def _inactive_rules(spec: Spec) -> Iterator[Problem]:
    if spec.channel is not None:
        yield from _channel_inactive(spec.channel)
    if spec.spatial is not None and spec.spatial.norm != "batch":
        for key in NORM_KEYS:
            yield Problem(
                ("spatial", key),
                f"'{key}' only applies with norm: batch; add 'norm: batch' or remove it",
                reads=(("spatial", "norm"),),
            )
    if (spec.channel is None or spec.spatial is None) and spec.fusion != "sequential":
        yield Problem(
            ("fusion",),
            f"fusion '{spec.fusion}' combines two branches but the block has one; "
            "remove 'fusion' or add the other branch",
            reads=(("channel",), ("spatial",)),
        )
    if spec.gamma is not None and spec.gamma.mode == "none":
        yield Problem(
            ("gamma", "init"),
            "'init' has no effect with mode 'none'; remove it or choose mode 'blend' "
            "or 'residual'",
            reads=(("gamma", "mode"),),
        )


def _channel_inactive(branch: ChannelBranch) -> Iterator[Problem]:
    excite = (("channel", "excite"),)
    if branch.excite != "mlp":
        for key in MLP_ONLY:
            yield Problem(
                ("channel", key),
                f"'{key}' only applies to excite: mlp (this branch uses excite: "
                f"{branch.excite}); remove it",
                reads=excite,
            )
    elif branch.hidden is not None:
        for key in WIDTH_KEYS:
            yield Problem(
                ("channel", key),
                f"'hidden' sets the width directly, so '{key}' has no effect; "
                "remove one of them",
                reads=(*excite, ("channel", "hidden")),
            )
    if branch.excite != "conv1d":
        yield Problem(
            ("channel", "kernel_size"),
            "'kernel_size' only applies to excite: conv1d; remove it",
            reads=excite,
        )
    else:
        yield Problem(
            ("channel", "bias"),
            "excite: conv1d has no bias (ECA-Net); remove 'bias'",
            reads=excite,
        )


def inactive(spec: Spec) -> dict[KeyPath, str]:
    """Keys that would have no effect in ``spec``, each with the reason (a message)."""
    return {problem.path: problem.message for problem in _inactive_rules(spec)}


def _given(raw: dict, path: KeyPath) -> bool:
    """Whether the user wrote the key at ``path`` (whatever its value)."""
    node = raw
    for key in path[:-1]:
        node = node.get(key) if isinstance(node, dict) else None
    return isinstance(node, dict) and path[-1] in node


def check(spec: Spec, raw: dict) -> Iterator[Problem]:
    """Yield every cross-key problem of ``spec``, which was validated from ``raw``."""
    yield from _top_level(spec, raw)
    for problem in _inactive_rules(spec):
        if _given(raw, problem.path):
            yield Problem(
                problem.path, problem.message, len(problem.path) > 1, problem.reads
            )
    channel = raw.get("channel")
    pools = channel.get("pools") if isinstance(channel, dict) else None
    for index, pool in enumerate(pools if isinstance(pools, list) else ()):
        if isinstance(pool, dict) and "window" in pool:  # even a rejected one
            yield Problem(
                ("channel", "pools", index, "window"),
                "window pooling is for the spatial branch only; the channel branch "
                "pools each whole map",
                True,
            )
    for name, branch in (("channel", spec.channel), ("spatial", spec.spatial)):
        if branch is not None:
            yield from _pool_rules(name, branch)


def _top_level(spec: Spec, raw: dict) -> Iterator[Problem]:
    for branch in ("channel", "spatial"):
        if branch in raw and raw[branch] is None:
            yield Problem(
                (branch,),
                f"'{branch}:' is empty; write '{branch}: {{}}' for the default {branch} "
                "branch, or remove the key",
            )
    written_empty = any(raw.get(b, 1) is None for b in ("channel", "spatial"))
    misspelled = set(raw) - set(Spec.model_fields)  # 'chanel' may be the branch
    if (
        spec.channel is None
        and spec.spatial is None
        and not (written_empty or misspelled)
    ):
        yield Problem(
            (),
            "a block needs a 'channel' branch, a 'spatial' branch, or both",
            reads=(("channel",), ("spatial",)),
        )


def _pool_rules(name: str, branch: ChannelBranch | SpatialBranch) -> Iterator[Problem]:
    for index, pool in enumerate(branch.pools):
        if pool.window is not None and "sampler" in pool.model_fields_set:
            yield Problem(
                (name, "pools", index, "sampler"),
                "'sampler' chooses how a map or a pixel's channels are sampled; over "
                "a window, stochastic pooling has one sampler: remove 'sampler'",
                True,
            )
        if pool.kind == "mixed" and pool.trainable and pool.alpha in (0, 1):
            yield Problem(
                (name, "pools", index, "alpha"),
                "a trainable alpha is kept in (0, 1) by a sigmoid, so it cannot start at "
                "0 or 1; use e.g. 0.01 or 0.99",
                True,
                reads=((name, "pools", index, "trainable"),),
            )
