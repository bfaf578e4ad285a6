"""Spec -> view model: every decision and every number the templates print.

The templates only print: which helpers exist, their names and variants, constructor
arguments and their defaults, tensor axes, weight shapes and docstring text are all
decided here, from the spec and the pool catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass

from . import docs
from .catalogue import POOLS, Pool
from .spec import ChannelBranch, SpatialBranch, Spec


def py(value: object) -> str:
    """A Python literal for a spec value (numbers, strings, booleans, None)."""
    return repr(value)


@dataclass(frozen=True)
class Arg:
    """A constructor argument: stored as ``self.<name>`` and returned by ``get_config``."""

    name: str
    default: str


@dataclass(frozen=True)
class Helper:
    """A module-level function the generated file defines; ``macro`` names its template."""

    macro: str
    name: str
    doc: str = ""
    library: str = "pools"  # the template file holding the macro: "pools" or "helpers"
    reduce: str = "mean"  # lp / lse: "mean" or "sum" normalisation
    # _neighbourhoods: the layout's padding, one-channel probe and spatial index prefix
    padding: str = ""
    probe: str = ""
    index: str = ""


@dataclass(frozen=True)
class PoolWeight:
    """A learnable pool parameter (gem p, mixed alpha)."""

    attribute: str
    init_arg: str
    logit: bool  # stored as a logit (mixed alpha), so the value is sigmoid(weight)


@dataclass(frozen=True)
class PoolCall:
    function: str
    kwargs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class ChannelPlan:
    calls: tuple[PoolCall, ...]
    weights: tuple[PoolWeight, ...]
    combine: str
    excite: str
    activation: str
    gate: str
    bias: bool
    explicit_hidden: bool
    adaptive_kernel: bool
    excite_inputs: str  # input width of the first Dense: C, or n * C when concatenated
    out_inputs: str  # input width of channel_out
    conv_maps: int  # input maps of the conv1d excitation
    pool_axis: str  # the map's axes, "(1, 2)" or "(2, 3)"
    concat_axis: int
    descriptors_shape: str
    to_pool_major: bool  # descriptors come out (batch, channels, pools): transpose them
    one_at_a_time: bool  # descriptors kept apart, each excited by the same layers
    gate_shape: str


@dataclass(frozen=True)
class SpatialPlan:
    calls: tuple[PoolCall, ...]
    weights: tuple[PoolWeight, ...]
    channel_axis: int
    data_format: str
    maps: (
        str  # input maps of the spatial conv: 1 per channel-reducing pool, C per window
    )
    bias: bool
    norm: bool
    gate: str
    conv_input_shape: str
    norm_input_shape: str
    maps_comment: str


@dataclass(frozen=True)
class Plan:
    docstring: str
    class_name: str
    class_summary: str
    imports: tuple[str, ...]
    helpers: tuple[Helper, ...]
    args: tuple[Arg, ...]
    data_format: str
    channel_axis: int
    channel: ChannelPlan | None
    spatial: SpatialPlan | None
    fusion: str
    gamma: str
    uses_seed: bool


#: Helper name for each pool variant. Parameters that do not change the code (p, r, alpha)
#: are arguments; those that do (normalisation, weighting) select a variant.
def _helper_for(pool: Pool, branch: str) -> Helper:
    """The helper computing ``pool``: one per kind, variant and window/no window.

    Parameters that only change numbers (p, r, alpha, window size) are arguments; those
    that change the code (normalisation, stochastic weighting, windows) pick a helper.
    """
    kind = pool.kind
    stem = {"softpool": "soft"}.get(kind, kind)
    reduce = "mean"
    macro = kind
    if kind in ("lp", "lse"):
        reduce = pool.normalize
        stem += "_sum" if reduce == "sum" else ""
    if kind == "stochastic" and pool.weights == "softmax":
        stem = "softmax_stochastic"
        macro = "softmax_stochastic"
    if kind == "stochastic" and branch == "channel":
        # Channel regions are whole maps: sampled row, then column (two-level).
        stem += "_map"
        macro += "_map"
    window = pool.window is not None
    name = f"_{stem}_window_pool" if window else f"_{stem}_pool"
    macro += "_window" if window else ""
    return Helper(macro, name, docs.pool_doc(pool), reduce=reduce)


def _pool_arg(branch: str, index: int, param: str) -> str:
    return f"{branch}_pool{index}_{param}"


@dataclass(frozen=True)
class Target:
    """What differs between the Keras APIs a spec can target, as the templates need it."""

    imports: tuple[str, ...]
    random_argument: tuple[str, str]  # how stochastic helpers get their randomness
    flat_gather_everywhere: bool  # no take_along_axis to fall back on (TF 2.5)
    two_level_everywhere: bool  # a single axis too is sampled in two levels
    sigmoid: str  # for a trainable mixed alpha, sigmoid(logit)


TARGETS = {
    "keras3": Target(
        imports=("import keras", "from keras import ops"),
        random_argument=("seed_generator", "self.seed_generator"),
        flat_gather_everywhere=False,
        two_level_everywhere=True,
        sigmoid="ops.sigmoid",
    ),
    "tf_keras": Target(
        imports=("import tensorflow as tf", "from tensorflow import keras"),
        random_argument=("seed", "self.seed"),
        flat_gather_everywhere=True,
        two_level_everywhere=False,
        sigmoid="tf.sigmoid",
    ),
}


def _pools(branch: str, pools: list[Pool], axis: int | str, target: Target):
    """Calls, learnable weights and constructor arguments for a branch's pools."""
    calls, weights, args = [], [], []
    for index, pool in enumerate(pools):
        helper = _helper_for(pool, branch)
        if pool.window is None:
            kwargs: list[tuple[str, str]] = [("axis", str(axis))]
        else:
            window_arg = _pool_arg(branch, index, "window")
            args.append(Arg(window_arg, py(pool.window)))
            kwargs = [("window", f"self.{window_arg}")]
        learnable = pool.learnable()
        for param in pool.numeric:
            name = _pool_arg(branch, index, param)
            value = getattr(pool, param)
            if param in learnable:
                logit = pool.kind == "mixed"
                attribute = f"{name}_logit" if logit else name
                weights.append(PoolWeight(attribute, f"{name}_init", logit))
                args.append(Arg(f"{name}_init", py(value)))
                read = (
                    f"{target.sigmoid}(self.{attribute})"
                    if logit
                    else f"self.{attribute}"
                )
                kwargs.append((param, read))
            else:
                args.append(Arg(name, py(value)))
                kwargs.append((param, f"self.{name}"))
        if pool.kind == "stochastic":
            kwargs += [("training", "training"), target.random_argument]
        calls.append(PoolCall(helper.name, tuple(kwargs)))
    return tuple(calls), tuple(weights), args


def _channel(
    spec: Spec, branch: ChannelBranch
) -> tuple[ChannelPlan, list[Arg], list[Helper]]:
    last = spec.data_format == "channels_last"
    axes = "(1, 2)" if last else "(2, 3)"
    calls, weights, pool_args = _pools(
        "channel", branch.pools, axes, TARGETS[spec.target]
    )
    args: list[Arg] = []
    helpers: list[Helper] = []
    explicit_hidden = branch.hidden is not None
    if branch.excite == "mlp":
        if explicit_hidden:
            args.append(Arg("hidden_units", py(branch.hidden)))
        else:
            args += [
                Arg("reduction", py(branch.reduction)),
                Arg("divisor", py(branch.divisor)),
                Arg("min_hidden", py(branch.min_hidden)),
            ]
            helpers.append(
                Helper(
                    "hidden_units",
                    "_hidden_units",
                    docs.hidden_width_doc(branch.rounding),
                    reduce=branch.rounding,
                    library="helpers",
                )
            )
    adaptive = branch.excite == "conv1d" and branch.kernel_size == "adaptive"
    if branch.excite == "conv1d":
        if adaptive:
            helpers.append(
                Helper(
                    "adaptive_kernel_size", "_adaptive_kernel_size", library="helpers"
                )
            )
        else:
            args.append(Arg("channel_kernel_size", py(branch.kernel_size)))
    n = len(branch.pools)
    concat_width = "self.channels" if n == 1 else f"{n} * self.channels"
    excite_inputs = concat_width if branch.combine == "concat" else "self.channels"
    plan = ChannelPlan(
        calls=calls,
        weights=weights,
        combine=branch.combine,
        excite=branch.excite,
        activation=branch.activation,
        gate=branch.gate,
        bias=branch.bias,
        explicit_hidden=explicit_hidden,
        adaptive_kernel=adaptive,
        excite_inputs=excite_inputs,
        out_inputs="hidden" if branch.excite == "mlp" else excite_inputs,
        conv_maps=n if branch.combine == "concat" else 1,
        pool_axis=axes,
        concat_axis=1 if last else 2,
        descriptors_shape=(
            f"(-1, {n}, self.channels)" if last else f"(-1, self.channels, {n})"
        ),
        to_pool_major=not last,
        one_at_a_time=branch.combine == "sum" and branch.excite != "conv1d",
        gate_shape="(-1, 1, 1, self.channels)" if last else "(-1, self.channels, 1, 1)",
    )
    return plan, args + pool_args, helpers


def _map_shape(channel_axis: int, maps: int | str) -> str:
    return (
        f"(None, None, None, {maps})"
        if channel_axis == -1
        else f"(None, {maps}, None, None)"
    )


def _spatial(spec: Spec, branch: SpatialBranch) -> tuple[SpatialPlan, list[Arg]]:
    axis = -1 if spec.data_format == "channels_last" else 1
    calls, weights, pool_args = _pools(
        "spatial", branch.pools, axis, TARGETS[spec.target]
    )
    args = [
        Arg("spatial_kernel_size", py(branch.kernel_size)),
        Arg("spatial_dilation", py(branch.dilation)),
    ]
    norm = branch.norm == "batch"
    if norm:
        args += [
            Arg("norm_momentum", py(branch.norm_momentum)),
            Arg("norm_epsilon", py(branch.norm_epsilon)),
        ]
    maps = docs.conv_inputs(branch.pools, "channels")
    plan = SpatialPlan(
        calls=calls,
        weights=weights,
        channel_axis=axis,
        data_format=spec.data_format,
        maps=maps,
        bias=branch.bias,
        norm=norm,
        gate=branch.gate,
        conv_input_shape=_map_shape(axis, maps),
        maps_comment=(
            "One map per pool, pooled across the channels."
            if all(pool.window is None for pool in branch.pools)
            else f"Maps pooled across channels, or per channel over windows: {maps}."
        ),
        norm_input_shape=_map_shape(axis, 1),
    )
    return plan, args + pool_args


_NEIGHBOURHOOD_LAYOUT = {
    "channels_last": (
        "[(0, 0), (half, half), (half, half), (0, 0)]",
        "x[:1, :, :, :1]",
        "rows, cols",
    ),
    "channels_first": (
        "[(0, 0), (0, 0), (half, half), (half, half)]",
        "x[:1, :1]",
        ":, rows, cols",
    ),
}


def _sampler_helpers(branches: set[str], target: Target) -> list[str]:
    """The helper macros stochastic pooling in `branches` needs, in print order.

    Keras 3: both branches sample in two levels with _weighted_sample_2d (a single
    axis is split into blocks first, by _split_axis) and hashed uniforms. tf_keras: a single axis is
    sampled in one level with TensorFlow's own uniforms.
    """
    if not branches:
        return []
    if target.two_level_everywhere:
        split = ["split_axis", "block_length"] if "spatial" in branches else []
        return [
            "weighted_mean",
            *split,
            "weighted_sample_2d",
            "gather",
            "uniform",
            "hash",
        ]
    macros = ["weighted_sample"] if "spatial" in branches else []
    if "channel" in branches:
        macros.append("weighted_sample_2d")
    if "channel" in branches or target.flat_gather_everywhere:
        macros.append("take_along")
    return macros


def _helpers(spec: Spec, extra: list[Helper]) -> tuple[Helper, ...]:
    """Each helper once: block helpers first, then pools in catalogue order."""
    order = list(POOLS)
    pools: dict[str, tuple[int, Helper]] = {}
    uses = [
        (name, pool)
        for name, branch in (("channel", spec.channel), ("spatial", spec.spatial))
        if branch is not None
        for pool in branch.pools
    ]
    for name, pool in uses:
        helper = _helper_for(pool, name)
        pools.setdefault(helper.name, (order.index(pool.kind), helper))
    shared = list(extra)
    if any(pool.window is not None for _, pool in uses):
        padding, probe, index = _NEIGHBOURHOOD_LAYOUT[spec.data_format]
        shared.append(
            Helper(
                "neighbourhoods",
                "_neighbourhoods",
                library="helpers",
                padding=padding,
                probe=probe,
                index=index,
            )
        )
    stochastic = {name for name, pool in uses if pool.kind == "stochastic"}
    shared += [
        Helper(macro, "_" + macro, library="helpers")
        for macro in _sampler_helpers(stochastic, TARGETS[spec.target])
    ]
    ranked = [h for _, h in sorted(pools.values(), key=lambda p: (p[0], p[1].name))]
    return tuple(shared) + tuple(ranked)


def plan(spec: Spec) -> Plan:
    """Compute everything the templates print for ``spec``."""
    args: list[Arg] = []
    extra_helpers: list[Helper] = []
    channel = spatial = None
    if spec.channel is not None:
        channel, channel_args, extra_helpers = _channel(spec, spec.channel)
        args += channel_args
    if spec.spatial is not None:
        spatial, spatial_args = _spatial(spec, spec.spatial)
        args += spatial_args
    if spec.gamma_mode != "none":
        args.append(Arg("gamma_init", py(spec.gamma.init)))
    uses_seed = any(
        pool.kind == "stochastic"
        for branch in (spec.channel, spec.spatial)
        if branch is not None
        for pool in branch.pools
    )
    if uses_seed:
        args.append(Arg("seed", "None"))
    helpers = _helpers(spec, extra_helpers)
    logit_weights = [
        w.logit for b in (channel, spatial) if b is not None for w in b.weights
    ]
    needs_math = (
        any(logit_weights)
        or (channel is not None and channel.adaptive_kernel)
        or any(h.macro in ("block_length", "uniform") for h in helpers)
    )
    # Standard library first, a blank line, then keras (isort's grouping).
    imports = (["import math", ""] if needs_math else []) + list(
        TARGETS[spec.target].imports
    )
    return Plan(
        docstring=docs.module_docstring(spec),
        class_name=spec.name,
        class_summary=docs.class_summary(spec),
        imports=tuple(imports),
        helpers=helpers,
        args=tuple(args),
        data_format=spec.data_format,
        channel_axis=-1 if spec.data_format == "channels_last" else 1,
        channel=channel,
        spatial=spatial,
        fusion=(
            spec.fusion
            if channel and spatial
            else ("channel" if channel else "spatial")
        ),
        gamma=spec.gamma_mode,
        uses_seed=uses_seed,
    )
