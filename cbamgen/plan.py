"""Spec -> plan: every decision and every derived fact the generated file prints.

The plan is data: constructor arguments and their values, weights and their shapes,
the helpers to define, and for each branch what its template needs (its pools as
calls, its excitation's settings, its layout). No code is built here: the templates
print the plan (``templates/``), the docstrings word it (:mod:`cbamgen.docs`). The
catalogue's entries plan themselves (:mod:`cbamgen.catalogue`); this module puts the
pieces together in the file's order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .catalogue import BRANCHES, FUSIONS, GAMMAS, POOLS
from .dialect import DIALECTS, Dialect
from .plandata import Arg, Contributions, Helper, Weight
from .spec import Spec

__all__ = ["Plan", "plan"]


@dataclass(frozen=True)
class Plan:
    spec: Spec
    dialect: Dialect
    class_name: str
    imports: tuple[str, ...]
    helpers: tuple[Helper, ...]
    args: tuple[Arg, ...]
    channels_last: bool
    branches: tuple[Any, ...]  # each branch kind's plan, in the catalogue's order
    fusion: str  # a fusion of the catalogue, or "alone" for a single branch
    gamma: Any  # the gamma mode's catalogue entry
    seeded: bool
    weights: tuple[Weight, ...]

    @property
    def ops(self) -> dict:
        return self.dialect.ops

    @property
    def channel_axis(self) -> int:
        return -1 if self.channels_last else 1

    @property
    def layout(self) -> str:
        if self.channels_last:
            return "(batch, height, width, channels)"
        return "(batch, channels, height, width)"

    @property
    def on_logits(self) -> bool:
        """Whether the fusion gates the branches' logits itself (BAM's)."""
        return self.fusion != "alone" and FUSIONS[self.fusion].on_logits

    def branch(self, kind: str) -> Any:
        """The plan of branch ``kind``, or None."""
        return next((b for b in self.branches if b.name == kind), None)

    @property
    def channel(self) -> Any:
        return self.branch("channel")

    @property
    def spatial(self) -> Any:
        return self.branch("spatial")


# ------------------------------------------------------------------------- helpers

#: The helpers the parts share: name -> (template, macro, the shared helpers it calls).
_SHARED: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "_window_mean": ("helpers/window.py.j2", "mean", ()),
    "_window_max": ("helpers/window.py.j2", "max", ()),
    "_window_views": ("helpers/window.py.j2", "views", ()),
    "_window_count": ("helpers/window.py.j2", "count", ("_window_views",)),
    "_window_softmax_mean": (
        "helpers/window.py.j2",
        "softmax_mean",
        ("_window_mean", "_window_max", "_window_views"),
    ),
    "_extent_windows": ("helpers/extent.py.j2", "windows", ()),
    "_extent_mean": ("helpers/extent.py.j2", "mean", ("_extent_windows",)),
    "_extent_max": ("helpers/extent.py.j2", "max", ("_extent_windows",)),
    "_spread": ("helpers/extent.py.j2", "spread", ()),
    "_split_axis": ("helpers/sampling.py.j2", "split_axis", ()),
    "_sample_2d": ("helpers/sampling.py.j2", "sample_2d", ("_gather", "_uniform")),
    "_sample_window": (
        "helpers/sampling.py.j2",
        "sample_window",
        ("_uniform", "_gather"),
    ),
    "_sample_simply": ("helpers/sampling.py.j2", "sample_simply", ()),
    "_gather": ("helpers/sampling.py.j2", "gather", ()),
    "_uniform": ("helpers/sampling.py.j2", "uniform", ("_hash",)),
    "_hash": ("helpers/sampling.py.j2", "hash", ()),
    "_circular_pad": ("helpers/layers.py.j2", "circular_pad", ()),
    "_group_norm": ("helpers/layers.py.j2", "group_norm", ()),
    "_hard_swish": ("helpers/layers.py.j2", "hard_swish", ()),
}
#: Helpers that use the math module.
_MATH = {"_split_axis", "_sample_2d", "_gather"}
#: Helpers that read shapes: the tf_keras dialect gives them a _shape helper.
_SHAPES = {
    "_sample_2d",
    "_uniform",
    "_sample_simply",
    "_split_axis",
    "_window_views",
    "_sample_window",
    "_spread",
    "_extent_windows",
}


def _shared_helpers(calls: set[str], dialect: Dialect, rows: set[str]) -> list[Helper]:
    """The shared helpers ``calls`` needs, with what they call in turn, in the order of
    :data:`_SHARED`. ``rows``: how the two-level sampler's rows lie in memory,
    "contiguous" and/or "strided"."""
    shapes = "_shape" in calls  # a template reads a shape itself
    needed, todo = set(), [name for name in calls if name != "_shape"]
    while todo:
        name = todo.pop()
        if name not in needed:
            needed.add(name)
            todo += _SHARED[name][2]
    helpers = [
        Helper(
            template,
            macro,
            name,
            needs_math=name in _MATH,
            options={layout: layout in rows for layout in ("contiguous", "strided")},
        )
        for name, (template, macro, _) in _SHARED.items()
        if name in needed
    ]
    if dialect.name == "tf_keras" and (shapes or needed & _SHAPES):
        helpers.append(Helper("dialects/tf_keras.py.j2", "shape_helper", "_shape"))
    return helpers


def _sampler_rows(spec: Spec) -> set[str]:
    """How the two-level sampler finds a region's rows in memory: a channel map's rows
    are strided channels-last and contiguous channels-first; a pixel's channels, split
    into blocks, are contiguous on the last axis and strided on axis 1, as are a
    strip's values (a coordinate branch runs channels-last)."""
    first = spec.data_format == "channels_first"
    rows = set()
    for kind, b in spec.branches().items():
        for pool in getattr(b, "pools", ()):
            if pool.seeded and pool.window is None and pool.sampler == "fast":
                if kind == "channel":  # channels-first but for attention pooling
                    contiguous = first and not any(p.sublayers() for p in b.pools)
                elif kind == "spatial":
                    windows = any(
                        p.window is not None or p.keeps_channels for p in b.pools
                    )
                    contiguous = not first or windows
                else:
                    contiguous = False
                rows.add("contiguous" if contiguous else "strided")
    return rows


def _unique(helpers: list[Helper], order: list[str]) -> list[Helper]:
    """Each helper once, in catalogue order."""
    seen: dict[str, Helper] = {}
    for helper in helpers:
        seen.setdefault(helper.name, helper)
    return sorted(seen.values(), key=lambda h: (order.index(h.pool.kind), h.name))


# ---------------------------------------------------------------------------- plan


def plan(spec: Spec) -> Plan:
    """Compute everything the templates and docstrings print for ``spec``."""
    dialect = DIALECTS[spec.target]
    present = spec.branches()
    fusion = spec.fusion if len(present) > 1 else "alone"
    on_logits = fusion != "alone" and FUSIONS[fusion].on_logits
    ctx = Contributions()
    branches = []
    for kind, branch in present.items():
        part = BRANCHES[kind]
        branches.append(part.plan(spec, branch, ctx, logits_only=on_logits))
        part.weights(branch, ctx)
    gamma = GAMMAS[spec.gamma_mode]
    gamma.plan(spec, ctx)
    seeded = any(
        pool.seeded for b in present.values() for pool in getattr(b, "pools", ())
    )
    if seeded:
        ctx.arg("seed", None, "seed of stochastic pooling's draws (None: a random one)")
    if dialect.name == "tf_keras" and any(
        getattr(b.excited, "activation", None) == "hard_swish"
        for b in branches
        if hasattr(b, "excited")
    ):
        ctx.calls.add("_hard_swish")
    layer_helpers = _unique_names([h for h in ctx.helpers if h.pool is None])
    pool_helpers = _unique(
        [h for h in ctx.helpers if h.pool is not None], order=list(POOLS)
    )
    helpers = (
        layer_helpers
        + pool_helpers
        + _shared_helpers(ctx.calls, dialect, _sampler_rows(spec))
    )
    pool_weights = [w for b in branches if hasattr(b, "pools") for w in b.pools.weights]
    logits = any(w.logit for w in pool_weights)
    imports = (
        ["import math", ""] if logits or any(h.needs_math for h in helpers) else []
    )
    return Plan(
        spec=spec,
        dialect=dialect,
        class_name=spec.name,
        imports=tuple(imports) + dialect.imports,
        helpers=tuple(helpers),
        args=tuple(ctx.args),
        channels_last=spec.data_format == "channels_last",
        branches=tuple(branches),
        fusion=fusion,
        gamma=gamma,
        seeded=seeded,
        weights=tuple(ctx.weights),
    )


def _unique_names(helpers: list[Helper]) -> list[Helper]:
    seen: dict[str, Helper] = {}
    for helper in helpers:
        seen.setdefault(helper.name, helper)
    return list(seen.values())
