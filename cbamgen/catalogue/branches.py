"""The branch kinds: what a block attends over, each a top-level key of a spec.

A branch kind owns its spec model (its own keys, then the keys of its excitations,
assembled in :func:`.parts.model`), its rules, its plan (data for its template,
``templates/branches/<name>.py.j2``), its rows of the weights table, its docstring
formula and its reference function (:mod:`cbamgen.reference.branches`).

- ``channel``: pools each channel's map to a descriptor, excites, gates channels
  (SE, CBAM's channel branch, ECA, global context, gather-excite).
- ``spatial``: pools across channels to maps, convolves to one map, gates pixels
  (CBAM's spatial branch, BAM's, scSE's).
- ``coordinate``: pools each channel along each axis to two strips, excites, gates
  rows and columns (coordinate attention and its kin).
- ``energy``: SimAM's parameter-free gate of every element.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, Field

from ..fields import number
from ..plandata import (
    Contributions,
    Helper,
    PoolCall,
    PoolLayer,
    PoolParam,
    PoolWeight,
)
from . import excitations as ex
from .excitations import Excitation, Excited
from .gates import GATES
from .parts import (
    GCNET,
    Part,
    Problem,
    choice,
    described,
    inactive_keys,
    model,
    one_or_list,
    owned_keys,
)
from .pools import AXIS_REGIONS, POOLS, Pool, PoolSpec, Region

# ------------------------------------------------------------------------ pools


def _pool_list(
    default: tuple[str, ...], description: str, most: int = 16
) -> tuple[Any, Any]:
    return (
        Annotated[list[PoolSpec], Field(min_length=1, max_length=most)],
        Field(
            default_factory=lambda: [{"type": name} for name in default],
            validate_default=True,
            description=description,
        ),
    )


def _gate_field() -> tuple[Any, Any]:
    return (
        choice(GATES),
        Field(
            "sigmoid",
            description="the attention gate; hard_sigmoid(z) = clip(z / 6 + 1/2, 0, 1)",
        ),
    )


def _excite_field(group: dict, default: str) -> tuple[Any, Any]:
    text = "; ".join(f"{name}: {part.summary}" for name, part in group.items())
    return (choice(group), Field(default, description=text))


def _shared_keys(group: dict) -> dict[str, tuple[Any, Any]]:
    """The keys of a branch's excitations, each described with its readers."""
    fields = {}
    for key, value in owned_keys(group).items():
        users = [p for p in group.values() if key in p.keys]
        text = (
            value.description
            if len(users) == len(group)
            else described(key, value, group)
        )
        fields[key] = (value.annotation, Field(value.default, description=text))
    return fields


@dataclass(frozen=True)
class PlannedPools:
    calls: tuple[PoolCall, ...]
    weights: tuple[PoolWeight, ...]
    layers: tuple[PoolLayer, ...]


def plan_pools(
    name: str,
    pools: list[Pool],
    regions: list[str],
    axis: Any,
    ctx: Contributions,
    size: str | None = None,
) -> PlannedPools:
    """The calls, arguments, weights and helpers of a branch's pools: the arguments of
    pool ``i`` are named ``<name>_pool<i>_<parameter>``; ``axis`` is the regions'
    axis, ``size`` the argument holding an extent."""
    calls, weights, layers = [], [], []
    for index, pool in enumerate(pools):
        region = Region(regions[index])
        prefix = f"{name}_pool{index}"
        window = None
        if region.window:
            window = ctx.arg(
                f"{prefix}_window", pool.window, f"window of {name} pool {index}"
            )
        params = []
        learnable = pool.learnable()
        for param in pool.numeric:
            value = getattr(pool, param)
            if param in learnable:
                logit = pool.logit(param)
                attribute = f"{prefix}_{param}" + ("_logit" if logit else "")
                weights.append(PoolWeight(attribute, f"{prefix}_{param}_init", logit))
                ctx.arg(
                    f"{prefix}_{param}_init",
                    value,
                    f"starting {param} of {name} pool {index}",
                )
                params.append(PoolParam(param, attribute, logit))
            else:
                ctx.arg(f"{prefix}_{param}", value, f"{param} of {name} pool {index}")
                params.append(PoolParam(param, f"{prefix}_{param}"))
        layer = None
        for sublayer in pool.sublayers():
            layer = f"{prefix}_{sublayer}"
            layers.append(PoolLayer(layer, 1))
        function = None
        if pool.inline is None:
            function = pool.helper_name(region.kind)
            ctx.helpers.append(Helper(pool.template, "helper", function, pool, region))
        ctx.calls.update(pool.calls(region.kind))
        calls.append(
            PoolCall(
                function,
                pool.inline,
                region,
                axis=axis if region.kind in AXIS_REGIONS else None,
                size=window or (size if region.kind == "extent" else None),
                params=tuple(params),
                layer=layer,
                seeded=pool.seeded,
            )
        )
    return PlannedPools(tuple(calls), tuple(weights), tuple(layers))


def pool_weight_rows(name: str, pools: list[Pool], ctx: Contributions) -> None:
    for i, pool in enumerate(pools):
        for param in pool.learnable():
            suffix = "_logit" if pool.logit(param) else ""
            ctx.weight(f"{name}_pool{i}_{param}{suffix}", "()")
        for sublayer in pool.sublayers():
            ctx.weight(f"{name}_pool{i}_{sublayer}/kernel", "(C, 1)")
            ctx.weight(f"{name}_pool{i}_{sublayer}/bias", "(1,)")


def _pool_rules(name: str, branch: Any, regions: list[str]) -> Iterator[Problem]:
    for index, pool in enumerate(branch.pools):
        path = (name, "pools", index)
        if pool.window is not None and "sampler" in pool.model_fields_set:
            yield Problem(
                (*path, "sampler"),
                "'sampler' chooses how a map or a pixel's channels are sampled; over "
                "a window, stochastic pooling has one sampler: remove 'sampler'",
                True,
            )
        if pool.kind == "mixed" and pool.trainable and pool.alpha in (0, 1):
            yield Problem(
                (*path, "alpha"),
                "a trainable alpha is kept in (0, 1) by a sigmoid, so it cannot start at "
                "0 or 1; use e.g. 0.01 or 0.99",
                True,
                reads=((*path, "trainable"),),
            )
        if regions[index] not in pool.regions:
            yield _region_problem(name, path, pool, regions[index])


_REGION_WORDS = {
    "map": "each channel's whole map",
    "across": "the channels at each pixel",
    "strip": "each channel along a row or a column",
    "window": "each channel over each pixel's window",
    "extent": "each channel over windows of 2e - 1 cells, stride e",
}


def _region_problem(name: str, path: tuple, pool: Pool, region: str) -> Problem:
    if region == "window" and pool.keeps_channels:
        message = f"'{pool.kind}' keeps every channel as it is; remove 'window'"
        return Problem((*path, "window"), message, True)
    if region == "extent":
        able = [kind for kind, cls in POOLS.items() if "extent" in cls.regions]
        message = (
            f"with an extent, the {name} branch gathers over windows of 2e - 1 cells "
            f"with stride e, which {one_or_list(able)} can; {pool.kind} cannot: choose "
            "one of those, or remove 'extent'"
        )
        return Problem((*path, "type"), message, True, reads=((name, "extent"),))
    if pool.keeps_channels:
        message = (
            f"'{pool.kind}' gives the spatial conv every channel as a map; it is for the "
            "spatial branch"
        )
        return Problem((*path, "type"), message, True)
    if region == "window" and "window" not in pool.regions:
        message = (
            f"{pool.kind} pooling cannot pool over windows ({_region_words(pool)}); "
            "remove 'window'"
        )
        return Problem((*path, "window"), message, True)
    branches = [
        kind
        for kind, branch in BRANCHES.items()
        if any(r in pool.regions for r in branch.pool_regions)
    ]
    where = f"; it is for the {one_or_list(branches)} branch" if branches else ""
    message = (
        f"{pool.kind} pooling reduces {_region_words(pool)}, not "
        f"{_REGION_WORDS[region]} as the {name} branch needs{where}"
    )
    return Problem((*path, "type"), message, True)


def _region_words(pool: Pool) -> str:
    return one_or_list([_REGION_WORDS[r] for r in pool.regions if r != "window"])


# ---------------------------------------------------------------------- branches

#: The shape of a gate as large as the input: the docstrings print the input's
#: layout in its place.
FULL = "the input's shape"


class Branch(Part):
    """Base of the branch kinds. ``model`` is its spec model; ``excitations`` the
    excitations it takes (chosen by its ``excite`` key)."""

    model: ClassVar[type[BaseModel]]
    excitations: ClassVar[dict[str, Excitation]] = {}
    #: The regions its pools reduce (the first is a pool's without window).
    pool_regions: ClassVar[tuple[str, ...]] = ()
    #: A branch kind that is a whole block: no other branch can join it.
    whole: ClassVar[bool] = False
    #: The shape of its attention score, for the layer's docstring.
    score: ClassVar[str] = ""
    #: What its gate is called in docstrings' formulas, and what it is when a
    #: fusion takes its logits.
    symbol: ClassVar[str] = ""
    logit_symbol: ClassVar[str] = ""

    def inactive(self, branch: Any, spec: Any) -> Iterator[Problem]:
        """Keys of ``branch`` that would have no effect, each with the reason."""
        if self.excitations:
            yield from inactive_keys(
                self.excitations, branch.excite, self.name, "excite"
            )
            yield from self.excitations[branch.excite].inactive(branch, self.name)

    #: What its pools do, for a message that refuses a window.
    pools_do: ClassVar[str] = ""

    def rules(self, branch: Any, raw: Any) -> Iterator[Problem]:
        """Every other rule of ``branch`` (validated from ``raw``, its mapping)."""
        if self.excitations:
            yield from self.excitations[branch.excite].rules(branch, self.name)
        if not hasattr(branch, "pools"):
            return
        yield from _pool_rules(self.name, branch, self.regions(branch))
        if "window" in self.pool_regions:
            return
        pools = raw.get("pools") if isinstance(raw, dict) else None
        for index, pool in enumerate(pools if isinstance(pools, list) else ()):
            if isinstance(pool, dict) and "window" in pool:  # even a rejected one
                yield Problem(
                    (self.name, "pools", index, "window"),
                    f"window pooling is for the spatial branch only; the {self.name} "
                    f"branch {self.pools_do}",
                    True,
                )

    def regions(self, branch: Any) -> list[str]:
        """The region each pool of ``branch`` reduces."""
        windows = "window" in self.pool_regions
        return [
            "window" if windows and pool.window is not None else self.pool_regions[0]
            for pool in branch.pools
        ]

    def describe(
        self, spec: Any, branch: Any, logits_only: bool
    ) -> list[tuple[str, str]]:
        """The docstring's formula lines: (label, text), the label on the first."""
        raise NotImplementedError

    def references_of(self, branch: Any, alone: bool) -> list[str]:
        """The papers a docstring cites for ``branch`` and its parts."""
        found = list(self.references)
        excitation = self.excitations.get(getattr(branch, "excite", None))
        if excitation is not None:
            found += excitation.references
            found += excitation.alone_references if alone else ()
        for pool in getattr(branch, "pools", ()):
            found += pool.references
        return found

    def alone(self, branch: Any) -> str:
        """The output when it is the block's only branch."""
        return f"y = x * {self.symbol}"

    def score_of(self, branch: Any) -> str | None:
        """The shape of the attention score call() returns for it (None: it has no
        gate)."""
        return self.score

    def training(self, planned: PlannedPools, excited: Excited | None) -> bool:
        return any(c.seeded for c in planned.calls) or bool(
            excited and excited.training
        )


def _model(name: str, doc: str, own: dict, group: dict, after: dict) -> type[BaseModel]:
    return model(name, doc, {**own, **_shared_keys(group), **after})


# -------------------------------------------------------------------- channel


EXTENT = (
    number(integer=True, ge=2, le=64, also=("global",)),
    Field(
        "global",
        description="global: pool each whole map; e >= 2: pool windows of 2e - 1 "
        "cells, stride e, and spread the gate back by nearest neighbour "
        "(gather-excite)",
    ),
)
APPLY = (
    Literal["multiply", "add", "multiply_add"],
    Field(
        "multiply",
        description="multiply: x * gate(E(d)); add: x + E(d), ungated (GCNet); "
        "multiply_add: x * gate(E(d)) + E'(d), E' a second excitation like E",
    ),
)

ChannelBranch = _model(
    "ChannelBranch",
    "Channel attention: pool each channel's map to descriptors, excite, gate channels.",
    {
        "pools": _pool_list(
            ("avg", "max"),
            "pools giving one descriptor per channel (see cbamgen pools)",
        ),
        "combine": (
            Literal["sum", "concat"],
            Field(
                "sum",
                description="sum: excite each descriptor, add (CBAM); concat: excite "
                "them joined",
            ),
        ),
        "excite": _excite_field(ex.CHANNEL_EXCITATIONS, "mlp"),
    },
    ex.CHANNEL_EXCITATIONS,
    {"gate": _gate_field(), "extent": EXTENT, "apply": APPLY},
)


@dataclass(frozen=True)
class ChannelPlan:
    part: Branch
    pools: PlannedPools
    combine: str  # "single", "sum" or "concat"
    excited: Excited
    shift: Excited | None  # apply: multiply_add's second excitation
    gate: str
    apply: str
    logits_only: bool  # a fusion takes the logits and gates them itself
    channels_last: bool
    to_last: bool  # features turned channels-last before pooling
    extent: str | None  # the argument holding the extent
    training: bool

    name = "channel"


class Channel(Branch):
    name = "channel"
    template = "branches/channel.py.j2"
    model = ChannelBranch
    excitations = ex.CHANNEL_EXCITATIONS
    pool_regions = ("map", "extent")
    pools_do = "pools each whole map"
    score = "(batch, channels)"
    symbol, logit_symbol = "a", "Mc"

    def regions(self, branch):
        region = "map" if branch.extent == "global" else "extent"
        return [region] * len(branch.pools)

    def inactive(self, branch, spec):
        yield from super().inactive(branch, spec)
        if branch.apply == "add":
            yield Problem(
                ("channel", "gate"),
                "'gate' has no effect with apply: add, which adds E(d) to x ungated "
                "(GCNet); remove it",
                reads=(("channel", "apply"),),
            )

    def rules(self, branch, raw):
        yield from super().rules(branch, raw)
        positionwise = [n for n, e in self.excitations.items() if e.positionwise]
        if branch.extent != "global" and branch.excite not in positionwise:
            yield Problem(
                ("channel", "extent"),
                f"with an extent, the excitation acts on each window's channels: "
                f"excite: {one_or_list(positionwise)} (not {branch.excite}); or remove "
                "'extent'",
                True,
                reads=(("channel", "excite"),),
            )

    def plan(self, spec, branch, ctx, logits_only=False) -> ChannelPlan:
        last = spec.data_format == "channels_last"
        extent = None
        if branch.extent != "global":
            extent = ctx.arg(
                "channel_extent",
                branch.extent,
                "gather over windows of 2 * extent - 1 cells, stride extent",
            )
        # An extent's windows, and attention pooling's scores, are computed
        # channels-last: channels-first features are turned first.
        to_last = not last and (
            extent is not None or any(p.sublayers() for p in branch.pools)
        )
        axis = (2, 3) if not last and not to_last else (1, 2)
        n = len(branch.pools)
        combine = "single" if n == 1 else branch.combine
        inputs = n if combine == "concat" else 1
        part = self.excitations[branch.excite]
        excited = part.plan(branch, ctx, "channel", inputs)
        if extent:  # descriptors at every gathered position: (batch, h, w, channels)
            excited = dataclasses.replace(excited, positions=True)
        if branch.apply == "add":  # the term added to x starts at zero: x itself
            excited = dataclasses.replace(excited, zero_start=True)
        if excited.kernel == "adaptive":
            ctx.helpers.append(
                Helper(
                    "helpers/adaptive_kernel_size.py.j2",
                    "helper",
                    "_adaptive_kernel_size",
                    needs_math=True,
                )
            )
        regions = self.regions(branch)
        pools = plan_pools("channel", branch.pools, regions, axis, ctx, extent)
        shift = None
        if branch.apply == "multiply_add":  # a second excitation, the same arguments
            shift = dataclasses.replace(
                part.plan(branch, Contributions(), "channel_add", inputs),
                positions=excited.positions,
                zero_start=True,
            )
        if excited.padding == "circular":
            ctx.calls.add("_circular_pad")
        if extent:
            ctx.calls.update(("_spread", "_shape"))
        return ChannelPlan(
            self,
            pools,
            combine,
            excited,
            shift,
            branch.gate,
            branch.apply,
            logits_only,
            last,
            to_last,
            extent,
            self.training(pools, excited),
        )

    def describe(self, spec, branch, logits_only):
        n = len(branch.pools)
        terms = [pool.term() for pool in branch.pools]
        if branch.extent != "global":
            e = branch.extent
            terms = [
                t.replace("(x)", f"_{2 * e - 1}x{2 * e - 1}/{e}(x)") for t in terms
            ]
            where = (
                f"pools over windows of {2 * e - 1} x {2 * e - 1} cells with stride {e},"
                " spread back to H x W by nearest neighbour"
            )
        else:
            where = "pools over each channel's map"
        part = self.excitations[branch.excite]
        logits, lines = part.describe(
            branch, terms, "sum" if n == 1 else branch.combine
        )
        if logits_only:
            first = f"Mc = {logits}"
        elif branch.apply == "add":
            first = f"t = {logits}"
        elif branch.apply == "multiply_add":
            first = (
                f"a = {branch.gate}({logits}), t = the same logits from a second"
                " excitation with its own weights, its last layer zero at the start"
            )
        else:
            first = f"a = {branch.gate}({logits})"
        return [("channel", f"{first}, {where}")] + [("", line) for line in lines]

    def references_of(self, branch, alone):
        found = super().references_of(branch, alone)
        if branch.extent != "global":
            found.append("Hu et al. 2018, Gather-Excite, arXiv:1810.12348")
        if branch.apply != "multiply":
            found.append(GCNET)
        return found

    def score_of(self, branch):
        if branch.apply == "add":
            return None  # it adds a term to x: no gate
        return FULL if branch.extent != "global" else self.score

    def alone(self, branch):
        return f"y = {self.applied(branch, 'x')}"

    def applied(self, branch, x):
        """What the branch makes of its input ``x``, for the fusions' formulas."""
        return {
            "add": f"{x} + t",
            "multiply_add": f"{x} * a + t",
        }.get(branch.apply, f"{x} * a")

    def computes(self, branch):
        """The symbols of what the branch computes from its input: a gate, a term."""
        return {"add": "t", "multiply_add": "a and t"}.get(branch.apply, "a")

    def weights(self, branch, ctx):
        inputs = len(branch.pools) if branch.combine == "concat" else 1
        part = self.excitations[branch.excite]
        part.weights(branch, ctx, "channel", inputs)
        if branch.apply == "multiply_add":
            part.weights(branch, ctx, "channel_add", inputs)
        pool_weight_rows("channel", branch.pools, ctx)


# --------------------------------------------------------------------- spatial

SpatialBranch = _model(
    "SpatialBranch",
    "Spatial attention: pool across channels to maps, convolve to one map, gate pixels.",
    {
        "pools": _pool_list(
            ("max", "avg"),
            "pools giving one map each, in conv input order; window: k pools each "
            "channel over k x k neighbourhoods instead; none: the features themselves",
        ),
        "excite": _excite_field(ex.SPATIAL_EXCITATIONS, "conv"),
    },
    ex.SPATIAL_EXCITATIONS,
    {"gate": _gate_field()},
)


@dataclass(frozen=True)
class SpatialPlan:
    part: Branch
    pools: PlannedPools
    full: int  # pools giving C maps each (windows, none)
    singles: int  # pools giving one map each
    excited: Excited
    gate: str
    to_last: bool  # features turned channels-last before pooling
    channels_last: bool
    logits_only: bool
    training: bool

    name = "spatial"

    @property
    def windows(self) -> bool:
        return any(c.region.window for c in self.pools.calls)

    @property
    def joined(self) -> str:
        """How the maps are joined: stacked, or concatenated when some are C maps."""
        return "concatenate" if self.full else "stack"


class Spatial(Branch):
    name = "spatial"
    template = "branches/spatial.py.j2"
    model = SpatialBranch
    excitations = ex.SPATIAL_EXCITATIONS
    pool_regions = ("across", "window")
    score = "(batch, height, width)"
    symbol, logit_symbol = "s", "Ms"

    def plan(self, spec, branch, ctx, logits_only=False) -> SpatialPlan:
        first = spec.data_format == "channels_first"
        full = sum(p.window is not None or p.keeps_channels for p in branch.pools)
        # The conv runs channels-last (TensorFlow has no NCHW convolution on CPUs); with
        # pools that keep channels, the features are turned channels-last once, first.
        to_last = first and full > 0
        axis = 1 if first and not to_last else -1
        part = self.excitations[branch.excite]
        excited = part.plan(branch, ctx, "spatial", (full, len(branch.pools) - full))
        pools = plan_pools("spatial", branch.pools, self.regions(branch), axis, ctx)
        return SpatialPlan(
            self,
            pools,
            full,
            len(branch.pools) - full,
            excited,
            branch.gate,
            to_last,
            not first,
            logits_only,
            self.training(pools, excited),
        )

    def describe(self, spec, branch, logits_only):
        part = self.excitations[branch.excite]
        expr, lines = part.describe(branch, [p.term() for p in branch.pools], "")
        dilation = part.aside(branch)
        windows = [pool.window is not None for pool in branch.pools]
        if all(p.kind == "none" for p in branch.pools):
            where = "from the features themselves"
        elif all(windows):
            where = "each channel pooled over"
        else:
            where = "pools across channels"
        first = f"Ms = {expr}" if logits_only else f"s = {branch.gate}({expr})"
        out = [("spatial", f"{first}{dilation}, {where}")]
        if any(windows):
            text = "the k x k window around each pixel, clipped at the borders (C maps)"
            if all(windows):
                out[0] = (out[0][0], out[0][1] + " " + text)
            else:
                out[0] = (out[0][0], out[0][1] + ";")
                out.append(("", "pool_kxk: each channel pooled over " + text))
        return out + [("", line) for line in lines]

    def weights(self, branch, ctx):
        part = self.excitations[branch.excite]
        part.weights(branch, ctx, "spatial", conv_inputs(branch.pools))
        pool_weight_rows("spatial", branch.pools, ctx)


def conv_inputs(pools: list[Pool], channels: str = "C") -> str:
    """Input maps of the spatial conv: one per pool across channels, C per window pool
    or pool that keeps the channels."""
    full = sum(pool.window is not None or pool.keeps_channels for pool in pools)
    singles = len(pools) - full
    terms = [channels if full == 1 else f"{full} * {channels}"] if full else []
    terms += [str(singles)] if singles else []
    return " + ".join(terms)


# ------------------------------------------------------------------ coordinate

CoordinateBranch = _model(
    "CoordinateBranch",
    "Coordinate attention: pool each channel along each axis to two strips, excite, "
    "gate rows and columns.",
    {
        "pools": _pool_list(
            ("avg",),
            "one pool, giving two strips: each channel along its rows (H values) and "
            "its columns (W values)",
            most=1,
        ),
        "excite": _excite_field(ex.COORDINATE_EXCITATIONS, "shared"),
    },
    ex.COORDINATE_EXCITATIONS,
    {
        "join": (
            Literal["multiply", "add"],
            Field(
                "multiply",
                description="multiply: x * gate(a_h) * gate(a_w); add: "
                "x * gate(a_h + a_w)",
            ),
        ),
        "gate": _gate_field(),
    },
)


@dataclass(frozen=True)
class CoordinatePlan:
    part: Branch
    rows: tuple[PoolCall, ...]  # each pool over every row: a strip of H values
    columns: tuple[PoolCall, ...]  # each pool over every column: W values
    pools: PlannedPools
    excited: Excited
    join: str
    gate: str
    channels_last: bool
    training: bool
    logits_only: bool = False

    name = "coordinate"


class Coordinate(Branch):
    name = "coordinate"
    template = "branches/coordinate.py.j2"
    model = CoordinateBranch
    excitations = ex.COORDINATE_EXCITATIONS
    pool_regions = ("strip",)
    pools_do = "pools each channel along its rows and columns"
    whole = True
    score = FULL
    symbol = "g"

    def plan(self, spec, branch, ctx, logits_only=False) -> CoordinatePlan:
        part = self.excitations[branch.excite]
        excited = part.plan(branch, ctx, "coordinate", len(branch.pools))
        # Channels-last inside: a strip of H values pools over the width (axis 2).
        pools = plan_pools("coordinate", branch.pools, self.regions(branch), 2, ctx)
        columns = tuple(dataclasses.replace(c, axis=1) for c in pools.calls)
        return CoordinatePlan(
            self,
            pools.calls,
            columns,
            pools,
            excited,
            branch.join,
            branch.gate,
            spec.data_format == "channels_last",
            self.training(pools, excited),
        )

    def describe(self, spec, branch, logits_only):
        pool = branch.pools[0]
        strips = (
            f"h, w = {pool.term('x')} along each row (H values per channel), and "
            "along each column (W values)"
        )
        _, lines = self.excitations[branch.excite].describe(branch, [], "")
        g = branch.gate
        join = (
            f"g = {g}(a_h + a_w)"
            if branch.join == "add"
            else f"g = {g}(a_h) * {g}(a_w)"
        )
        join += ", broadcast over the other axis"
        return [("coordinate", strips)] + [("", x) for x in [*lines, join]]

    def weights(self, branch, ctx):
        part = self.excitations[branch.excite]
        part.weights(branch, ctx, "coordinate", 1)
        pool_weight_rows("coordinate", branch.pools, ctx)


# ---------------------------------------------------------------------- energy

EnergyBranch = model(
    "EnergyBranch",
    "SimAM: every element gated by its energy against its channel's map; no weights.",
    {
        "lambda": (
            number(gt=0, le=1e3),
            Field(1e-4, description="the regularizer lambda of the energy"),
        ),
        "gate": _gate_field(),
    },
)


@dataclass(frozen=True)
class EnergyPlan:
    part: Branch
    axis: tuple[int, int]
    gate: str
    training: bool = False
    logits_only: bool = False

    name = "energy"


class Energy(Branch):
    name = "energy"
    template = "branches/energy.py.j2"
    model = EnergyBranch
    whole = True
    score = FULL
    symbol = "g"
    citation = "Yang et al. 2021, SimAM, ICML"
    references = (citation,)

    def plan(self, spec, branch, ctx, logits_only=False) -> EnergyPlan:
        ctx.calls.add("_shape")
        ctx.arg("energy_lambda", getattr(branch, "lambda"), "the energy's lambda")
        last = spec.data_format == "channels_last"
        return EnergyPlan(self, (1, 2) if last else (2, 3), branch.gate)

    def describe(self, spec, branch, logits_only):
        return [
            (
                "energy",
                f"g = {branch.gate}(E), E = (x - mu)^2 / (4 (v + lambda)) + 1/2, with "
                "mu the mean and v = sum (x - mu)^2 / max(n-1, 1) of each channel's "
                "n = H W values",
            )
        ]

    def weights(self, branch, ctx):
        pass


BRANCHES: dict[str, Branch] = {
    b.name: b for b in (Channel(), Spatial(), Coordinate(), Energy())
}
