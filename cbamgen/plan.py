"""Spec -> plan: every decision and every derived fact the generated file prints.

The plan is the single source of derived facts: constructor arguments, weights and
their shapes, the spatial conv's input count, helper functions and their names, the
expressions each branch evaluates, spelled in the target's dialect. The templates and
the docstrings (:mod:`cbamgen.docs`) only print it. Pools say for themselves how they
are computed (:mod:`cbamgen.catalogue`); the plan asks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .catalogue import POOLS, Pool
from .dialect import DIALECTS, Dialect
from .spec import ChannelBranch, SpatialBranch, Spec


def py(value: object) -> str:
    """A Python literal for a spec value (numbers, strings, booleans, None)."""
    return repr(value)


@dataclass(frozen=True)
class Arg:
    """A constructor argument: stored as ``self.<name>``, returned by ``get_config``.
    ``doc`` is None for an argument documented with the one before it."""

    name: str
    default: str
    doc: str | None


@dataclass(frozen=True)
class Weight:
    """One row of the docstring's weights table."""

    name: str
    shape: str


@dataclass(frozen=True)
class PoolWeight:
    """A learnable pool parameter (gem's p, mixed's alpha), created with add_weight."""

    attribute: str
    init_arg: str
    logit: bool  # stored as a logit: the parameter is sigmoid(weight)


@dataclass(frozen=True)
class Region:
    """What a pool reduces: ``map`` (each channel's H x W map), ``across`` (the
    channels at each pixel), both given by ``axis``, or ``window`` (each pixel's
    window x window neighbourhood, channels-last); its reductions in the dialect."""

    kind: str
    ops: dict

    @property
    def window(self) -> bool:
        return self.kind == "window"

    @property
    def argument(self) -> str:
        """The helper's parameter naming the region."""
        return "window" if self.window else "axis"

    def mean(self, expr: str) -> str:
        if self.window:
            return f"_window_mean({expr}, window)"
        return f"{self.ops['mean']}({expr}, axis=axis)"

    def max(self, expr: str) -> str:
        if self.window:
            return f"_window_max({expr}, window)"
        return f"{self.ops['max']}({expr}, axis=axis)"


@dataclass(frozen=True)
class Helper:
    """A function the generated file defines below the class: ``macro`` in
    ``template`` prints it. Pool helpers carry their pool and region."""

    template: str
    macro: str
    name: str
    pool: Pool | None = None
    region: Region | None = None
    needs_math: bool = False
    options: dict = field(default_factory=dict)  # what else the macro prints by


@dataclass(frozen=True)
class ChannelPlan:
    descriptors: tuple[str, ...]  # pool expressions on `features`, each (batch, C)
    weights: tuple[PoolWeight, ...]
    combine: str
    excite: str
    activation: str  # a format string: "ops.relu({})"
    gate: str  # a format string: "ops.sigmoid({})"
    hidden: str  # the hidden width, in build()
    hidden_shape: str  # the input shapes the sublayers are built for
    out_shape: str
    conv_shape: str
    kernel_size: str  # conv1d's, in build()
    bias: bool
    gate_shape: str
    training: bool  # whether the gate needs `training`

    def activate(self, expr: str) -> str:
        return self.activation.format(expr)

    def gated(self, expr: str) -> str:
        return self.gate.format(expr)


@dataclass(frozen=True)
class SpatialPlan:
    maps: tuple[str, ...]  # the pools' expressions, each channels-last maps
    joined: str  # the conv's input, from the list `maps`
    weights: tuple[PoolWeight, ...]
    conv_inputs: str  # input maps of the conv, in build(): "2", "2 * channels"
    bias: bool
    norm: bool
    gate: str
    to_last: str | None  # features to channels-last first (windows, channels_first)
    to_input: str | None  # a format string: the gate back to the input's layout
    training: bool

    def gated(self, expr: str) -> str:
        return self.gate.format(expr)


@dataclass(frozen=True)
class Plan:
    spec: Spec
    dialect: Dialect
    class_name: str
    imports: tuple[str, ...]
    helpers: tuple[Helper, ...]
    args: tuple[Arg, ...]
    channel_axis: int
    layout: str
    channel: ChannelPlan | None
    spatial: SpatialPlan | None
    fusion: str  # a fusion rule, or "channel" / "spatial" for a single branch
    output: str  # the gated output, from x (and y, the input gated by the first gate)
    gamma: str
    seeded: bool
    weights: tuple[Weight, ...]
    scores: tuple[tuple[str, str], ...]  # ("channel", expression) for each branch

    @property
    def ops(self) -> dict:
        return self.dialect.ops


# --------------------------------------------------------------------------- pools


def _pool_arg(branch: str, index: int, param: str) -> str:
    return f"{branch}_pool{index}_{param}"


@dataclass
class _Pools:
    """What a branch's pools contribute: expressions, weights, arguments, helpers."""

    expressions: list[str] = field(default_factory=list)
    weights: list[PoolWeight] = field(default_factory=list)
    args: list[Arg] = field(default_factory=list)
    helpers: list[Helper] = field(default_factory=list)
    windows: list[bool] = field(default_factory=list)


def _pools(branch: str, pools: list[Pool], axis: str, dialect: Dialect) -> _Pools:
    out = _Pools()
    ops = dialect.ops
    for index, pool in enumerate(pools):
        window = pool.window is not None
        kind = _region(branch, pool)
        if window:
            name = _pool_arg(branch, index, "window")
            out.args.append(
                Arg(name, py(pool.window), f"window of {branch} pool {index}")
            )
            kwargs = [f"self.{name}"]
        else:  # a stochastic pool's arguments read well in order: (x, axis, training, seed)
            kwargs = [axis if pool.seeded else f"axis={axis}"]
        learnable = pool.learnable()
        for param in pool.numeric:
            name = _pool_arg(branch, index, param)
            value = getattr(pool, param)
            if param in learnable:
                logit = pool.logit(param)
                attribute = f"{name}_logit" if logit else name
                out.weights.append(PoolWeight(attribute, f"{name}_init", logit))
                out.args.append(
                    Arg(
                        f"{name}_init",
                        py(value),
                        f"starting {param} of {branch} pool {index}",
                    )
                )
                read = (
                    f"{ops['sigmoid']}(self.{attribute})"
                    if logit
                    else f"self.{attribute}"
                )
            else:
                out.args.append(
                    Arg(name, py(value), f"{param} of {branch} pool {index}")
                )
                read = f"self.{name}"
            kwargs.append(f"{param}={read}")
        if pool.seeded:
            kwargs += ["training", "self.seed_generator"]
        if pool.inline is not None:
            function = f"_window_{pool.inline}" if window else ops[pool.inline]
        else:
            function = pool.helper_name(kind)
            out.helpers.append(
                Helper(pool.template, "helper", function, pool, Region(kind, ops))
            )
        out.expressions.append(f"{function}(features, {', '.join(kwargs)})")
        out.windows.append(window)
    return out


# ------------------------------------------------------------------------ branches

_ACTIVATIONS = {"gelu": "{op}({{}}, approximate=False)"}


def _activation(name: str, ops: dict) -> str:
    return _ACTIVATIONS.get(name, "{op}({{}})").format(op=ops[name])


def _channel(spec: Spec, branch: ChannelBranch, dialect: Dialect):
    last = spec.data_format == "channels_last"
    pools = _pools("channel", branch.pools, "(1, 2)" if last else "(2, 3)", dialect)
    args: list[Arg] = []
    helpers: list[Helper] = []
    hidden = ""
    if branch.excite == "mlp":
        if branch.hidden is not None:
            args.append(
                Arg("hidden_units", py(branch.hidden), "width of the channel MLP")
            )
            hidden = "self.hidden_units"
        else:
            rule = "down to" if branch.rounding == "floor" else "to the nearest"
            args += [
                Arg(
                    "reduction",
                    py(branch.reduction),
                    f"hidden width: channels / reduction rounded {rule} a multiple of "
                    "divisor, at least max(divisor, min_hidden)",
                ),
                Arg("divisor", py(branch.divisor), None),
                Arg("min_hidden", py(branch.min_hidden), None),
            ]
            half = " + 0.5" if branch.rounding == "nearest" else ""  # nearest
            hidden = (
                f"max(int(channels / self.reduction / self.divisor{half}) * self.divisor, "
                "self.divisor, self.min_hidden)"
            )
    kernel_size = ""
    if branch.excite == "conv1d":
        if branch.kernel_size == "adaptive":
            kernel_size = "_adaptive_kernel_size(channels)"
            helpers.append(
                Helper(
                    "layer/adaptive_kernel_size.py.j2",
                    "helper",
                    "_adaptive_kernel_size",
                    needs_math=True,
                )
            )
        else:
            args.append(
                Arg(
                    "channel_kernel_size",
                    py(branch.kernel_size),
                    "kernel size of the 1-D convolution across channels",
                )
            )
            kernel_size = "self.channel_kernel_size"
    n = len(branch.pools)
    concat = branch.combine == "concat" and n > 1
    excite_inputs = f"{n} * channels" if concat else "channels"
    plan = ChannelPlan(
        descriptors=tuple(pools.expressions),
        weights=tuple(pools.weights),
        combine=branch.combine if n > 1 else "sum",
        excite=branch.excite,
        activation=_activation(branch.activation, dialect.ops),
        gate=dialect.gates[branch.gate],
        hidden=hidden,
        hidden_shape=f"(None, {excite_inputs})",
        out_shape=(
            "(None, hidden)" if branch.excite == "mlp" else f"(None, {excite_inputs})"
        ),
        conv_shape=f"(None, channels, {n if concat else 1})",
        kernel_size=kernel_size,
        bias=branch.bias,
        gate_shape="(-1, 1, 1, self.channels)" if last else "(-1, self.channels, 1, 1)",
        training=any(p.seeded for p in branch.pools),
    )
    return plan, args + pools.args, helpers + pools.helpers


def _spatial(spec: Spec, branch: SpatialBranch, dialect: Dialect):
    ops = dialect.ops
    first = spec.data_format == "channels_first"
    windows = any(pool.window is not None for pool in branch.pools)
    # The conv runs channels-last (TensorFlow has no NCHW convolution on CPUs); with
    # window pools, the features are turned channels-last once, before pooling.
    to_last = (
        f"{ops['transpose']}(features, (0, 2, 3, 1))" if first and windows else None
    )
    axis = "1" if first and not windows else "-1"
    pools = _pools("spatial", branch.pools, axis, dialect)
    if windows:  # C maps per window pool, one per other pool
        maps = [
            e if w else f"{ops['expand_dims']}({e}, -1)"
            for e, w in zip(pools.expressions, pools.windows, strict=True)
        ]
        joined = f"{ops['concatenate']}(maps, axis=-1)"
    else:
        maps, joined = pools.expressions, f"{ops['stack']}(maps, axis=-1)"
    args = [
        Arg(
            "spatial_kernel_size",
            py(branch.kernel_size),
            "the spatial conv's size and dilation",
        ),
        Arg("spatial_dilation", py(branch.dilation), None),
    ]
    norm = branch.norm == "batch"
    if norm:
        args += [
            Arg(
                "norm_momentum",
                py(branch.norm_momentum),
                "its batch normalization's momentum and epsilon",
            ),
            Arg("norm_epsilon", py(branch.norm_epsilon), None),
        ]
    plan = SpatialPlan(
        maps=tuple(maps),
        joined=joined,
        weights=tuple(pools.weights),
        conv_inputs=conv_inputs(branch.pools, "channels"),
        bias=branch.bias,
        norm=norm,
        gate=dialect.gates[branch.gate],
        to_last=to_last,
        to_input=f"{ops['transpose']}({{}}, (0, 3, 1, 2))" if first else None,
        training=norm or any(p.seeded for p in branch.pools),
    )
    return plan, args + pools.args, pools.helpers


def conv_inputs(pools: list[Pool], channels: str = "C") -> str:
    """Input maps of the spatial conv: one per pool across channels, C per window pool."""
    windows = sum(pool.window is not None for pool in pools)
    singles = len(pools) - windows
    terms = [channels if windows == 1 else f"{windows} * {channels}"] if windows else []
    terms += [str(singles)] if singles else []
    return " + ".join(terms)


# ------------------------------------------------------------------------- weights


def _weights(spec: Spec) -> tuple[Weight, ...]:
    rows: list[Weight] = []
    ch = spec.channel
    if ch is not None:
        n = len(ch.pools)
        width_in = "C" if ch.combine == "sum" or n == 1 else f"{n} * C"
        if ch.excite == "mlp":
            rows.append(Weight("channel_hidden/kernel", f"({width_in}, hidden)"))
            if ch.bias:
                rows.append(Weight("channel_hidden/bias", "(hidden,)"))
            rows.append(Weight("channel_out/kernel", "(hidden, C)"))
        elif ch.excite == "linear":
            rows.append(Weight("channel_out/kernel", f"({width_in}, C)"))
        else:
            maps = 1 if ch.combine == "sum" else n
            rows.append(Weight("channel_conv1d/kernel", f"(k, {maps}, 1)"))
        if ch.excite != "conv1d" and ch.bias:
            rows.append(Weight("channel_out/bias", "(C,)"))
        rows += _pool_weight_rows("channel", ch.pools)
    sp = spec.spatial
    if sp is not None:
        k = sp.kernel_size
        rows.append(
            Weight("spatial_conv/kernel", f"({k}, {k}, {conv_inputs(sp.pools)}, 1)")
        )
        if sp.bias:
            rows.append(Weight("spatial_conv/bias", "(1,)"))
        if sp.norm == "batch":
            rows += [
                Weight(f"spatial_norm/{w}", "(1,)")
                for w in ("gamma", "beta", "moving_mean", "moving_variance")
            ]
        rows += _pool_weight_rows("spatial", sp.pools)
    if spec.gamma_mode != "none":
        rows.append(Weight("gamma", "()"))
    return tuple(rows)


def _pool_weight_rows(branch: str, pools: list[Pool]) -> list[Weight]:
    return [
        Weight(
            _pool_arg(branch, i, param) + ("_logit" if pool.logit(param) else ""), "()"
        )
        for i, pool in enumerate(pools)
        for param in pool.learnable()
    ]


# ------------------------------------------------------------------------- helpers

#: The helpers pools share: name -> (template, macro, the shared helpers it calls).
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
}


def _shared_helpers(calls: set[str], dialect: Dialect, rows: set[str]) -> list[Helper]:
    """The shared helpers ``calls`` needs, with what they call in turn, in the order of
    :data:`_SHARED`. ``rows``: how the two-level sampler's
    rows lie in memory, "contiguous" and/or "strided"."""
    needed, todo = set(), list(calls)
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
    if dialect.name == "tf_keras" and needed & _SHAPES:
        helpers.append(Helper("dialects/tf_keras.py.j2", "shape_helper", "_shape"))
    return helpers


# ---------------------------------------------------------------------------- plan


#: Each fusion's output (sequential: y = x * channel; spatial first: y = x * spatial).
_OUTPUTS = {
    "sequential": "y * spatial",
    "spatial_first": "y * channel",
    "add": "x * channel + x * spatial",
    "multiply": "(x * channel) * (x * spatial)",
    "mean": "(x * channel + x * spatial) / 2.0",
    "channel": "x * channel",
    "spatial": "x * spatial",
}


def plan(spec: Spec) -> Plan:
    """Compute everything the templates and docstrings print for ``spec``."""
    dialect = DIALECTS[spec.target]
    one = "channel" if spec.channel else "spatial"
    fusion = spec.fusion if spec.channel and spec.spatial else one
    args: list[Arg] = []
    helpers: list[Helper] = []
    channel = spatial = None
    if spec.channel is not None:
        channel, channel_args, channel_helpers = _channel(spec, spec.channel, dialect)
        args += channel_args
        helpers += channel_helpers
    if spec.spatial is not None:
        spatial, spatial_args, spatial_helpers = _spatial(spec, spec.spatial, dialect)
        args += spatial_args
        helpers += spatial_helpers
    if spec.gamma_mode != "none":
        args.append(Arg("gamma_init", py(spec.gamma.init), "starting value of gamma"))
    used = [p for b in (spec.channel, spec.spatial) if b is not None for p in b.pools]
    seeded = any(pool.seeded for pool in used)
    if seeded:
        args.append(
            Arg(
                "seed",
                "None",
                "seed of stochastic pooling's draws (None: a random one)",
            )
        )
    calls = {
        name
        for branch, b in (("channel", spec.channel), ("spatial", spec.spatial))
        if b is not None
        for pool in b.pools
        for name in pool.calls(_region(branch, pool))
    }
    layer_helpers = [h for h in helpers if h.pool is None]
    pool_helpers = _unique(
        [h for h in helpers if h.pool is not None], order=list(POOLS)
    )
    helpers = (
        layer_helpers
        + pool_helpers
        + _shared_helpers(calls, dialect, _sampler_rows(spec))
    )
    logits = any(
        w.logit for b in (channel, spatial) if b is not None for w in b.weights
    )
    imports = (
        ["import math", ""] if logits or any(h.needs_math for h in helpers) else []
    )
    last = spec.data_format == "channels_last"
    scores = []
    if channel is not None:
        scores.append(
            ("channel", f"{dialect.ops['reshape']}(channel, (-1, self.channels))")
        )
    if spatial is not None:
        scores.append(("spatial", "spatial[..., 0]" if last else "spatial[:, 0]"))
    return Plan(
        spec=spec,
        dialect=dialect,
        class_name=spec.name,
        imports=tuple(imports) + dialect.imports,
        helpers=tuple(helpers),
        args=tuple(args),
        channel_axis=-1 if last else 1,
        layout=(
            "(batch, height, width, channels)"
            if last
            else "(batch, channels, height, width)"
        ),
        channel=channel,
        spatial=spatial,
        fusion=fusion,
        output=_OUTPUTS[fusion],
        gamma=spec.gamma_mode,
        seeded=seeded,
        weights=_weights(spec),
        scores=tuple(scores),
    )


def _sampler_rows(spec: Spec) -> set[str]:
    """How the two-level sampler finds a region's rows in memory: a channel map's rows
    are strided channels-last and contiguous channels-first; a pixel's channels, split
    into blocks, are contiguous on the last axis and strided on axis 1."""
    first = spec.data_format == "channels_first"
    rows = set()
    for branch, b in (("channel", spec.channel), ("spatial", spec.spatial)):
        for pool in b.pools if b is not None else ():
            if pool.seeded and pool.window is None and pool.sampler == "fast":
                windows = any(p.window is not None for p in b.pools)
                contiguous = first if branch == "channel" else not first or windows
                rows.add("contiguous" if contiguous else "strided")
    return rows


def _region(branch: str, pool: Pool) -> str:
    if pool.window is not None:
        return "window"
    return "map" if branch == "channel" else "across"


def _unique(helpers: list[Helper], order: list[str]) -> list[Helper]:
    """Each helper once, in catalogue order."""
    seen: dict[str, Helper] = {}
    for helper in helpers:
        seen.setdefault(helper.name, helper)
    return sorted(seen.values(), key=lambda h: (order.index(h.pool.kind), h.name))
