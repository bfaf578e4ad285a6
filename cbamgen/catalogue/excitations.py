"""The excitations: how a branch turns what it pooled into attention logits.

Each belongs to one branch kind (``channel``, ``spatial``, ``coordinate``), reads the
branch keys it lists (the branch's model is assembled from them, so a key another
excitation reads is refused here with a reason), plans its arguments, weights and
sublayers, and has a template under ``templates/excitations/`` and a reference
function in :mod:`cbamgen.reference.excitations`.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

from ..fields import number
from ..plandata import Contributions, Width
from . import keys as k
from .keys import Key
from .parts import CBAM, ECA, SE, Part, Problem, one_or_list, registry

# --------------------------------------------------------------------- hidden width


class WidthRule:
    """The hidden width of a bottleneck (keys :data:`.keys.WIDTH`): explicit, or
    C / reduction rounded down or to the nearest multiple of divisor, at least
    max(divisor, min_hidden), plus one divisor if below round_limit * C / reduction."""

    @staticmethod
    def rules(branch: Any, name: str, selector: tuple) -> Iterator[Problem]:
        if branch.hidden is None:
            return
        for key in k.WIDTH_RULE:
            yield Problem(
                (name, key),
                f"'hidden' sets the width directly, so '{key}' has no effect; "
                "remove one of them",
                reads=(selector, (name, "hidden")),
            )

    @staticmethod
    def plan(
        branch: Any,
        ctx: Contributions,
        prefix: str,
        what: str,
        variable: str = "hidden",
    ) -> Width:
        """Arguments for ``branch``'s width, named with ``prefix`` (the channel
        branch's have none: the names are older than the other branches), computed
        into build()'s local ``variable``."""
        if branch.hidden is not None:
            ctx.arg(f"{prefix}hidden_units", branch.hidden, f"width of the {what}")
            return Width(
                explicit=True, variable=variable, hidden=f"{prefix}hidden_units"
            )
        nearest = branch.rounding == "nearest"
        limited = branch.round_limit > 0
        rule = "to the nearest" if nearest else "down to"
        doc = (
            f"hidden width: channels / reduction rounded {rule} a multiple of "
            "divisor, at least max(divisor, min_hidden)"
        )
        if limited:
            doc += ", plus divisor if below round_limit * channels / reduction"
        ctx.arg(f"{prefix}reduction", branch.reduction, doc)
        ctx.arg(f"{prefix}divisor", branch.divisor)
        ctx.arg(f"{prefix}min_hidden", branch.min_hidden)
        if limited:
            ctx.arg(f"{prefix}round_limit", branch.round_limit)
        return Width(
            explicit=False,
            variable=variable,
            nearest=nearest,
            limited=limited,
            reduction=f"{prefix}reduction",
            divisor=f"{prefix}divisor",
            min_hidden=f"{prefix}min_hidden",
            round_limit=f"{prefix}round_limit",
        )

    @staticmethod
    def describe(branch: Any) -> str:
        if branch.hidden is not None:
            return f"hidden = {branch.hidden}"
        d = branch.divisor
        v = f"C / {branch.reduction}" if d == 1 else f"C / {branch.reduction} / {d}"
        nearest = " + 1/2" if branch.rounding == "nearest" else ""
        width = f"floor({v}{nearest})" + (f" * {d}" if d != 1 else "")
        text = f"hidden = max({width}, {max(d, branch.min_hidden)})"
        if branch.round_limit > 0:
            text += f", + {d} if below {branch.round_limit} C / {branch.reduction}"
        return text


# ------------------------------------------------------------------------- norms

#: What a norm is called in docstrings.
NORM_TITLES = {"batch": "BatchNorm", "layer": "LayerNorm", "group": "GroupNorm(1)"}


def norm_rules(
    branch: Any, name: str, norms_used: tuple[str, ...]
) -> Iterator[Problem]:
    """``norm_momentum`` needs norm: batch, ``norm_epsilon`` any norm; only keys that
    the branch's excitation reads are judged here (others are refused as such)."""
    applies = {"norm_momentum": ("batch",), "norm_epsilon": norms_used}
    for key, norms in applies.items():
        if branch.norm not in norms:
            shown = one_or_list(norms)
            yield Problem(
                (name, key),
                f"'{key}' only applies with norm: {shown}; add 'norm: {norms[0]}' or "
                "remove it",
                reads=((name, "norm"),),
            )


def norm_args(
    branch: Any, ctx: Contributions, prefix: str, whose: str = "its"
) -> tuple[str, str] | None:
    """Arguments for a norm layer's momentum (batch) and epsilon; None without one.
    ``whose`` says which layer's norm (the spatial conv's, older, says "its")."""
    if branch.norm == "none":
        return None
    if branch.norm == "batch":
        ctx.arg(
            f"{prefix}norm_momentum",
            branch.norm_momentum,
            f"{whose} batch normalization's momentum and epsilon",
        )
        ctx.arg(f"{prefix}norm_epsilon", branch.norm_epsilon)
    else:
        ctx.arg(
            f"{prefix}norm_epsilon",
            branch.norm_epsilon,
            f"epsilon of {whose} {NORM_TITLES[branch.norm]}",
        )
    return (f"{prefix}norm_momentum", f"{prefix}norm_epsilon")


def norm_weights(ctx: Contributions, name: str, norm: str, shape: str) -> None:
    """A norm layer's weights; a group norm's are the block's own (``<name>_gamma``)."""
    if norm == "none":
        return
    rows = ["gamma", "beta"]
    rows += ["moving_mean", "moving_variance"] if norm == "batch" else []
    for row in rows:
        ctx.weight(f"{name}{'_' if norm == 'group' else '/'}{row}", shape)


# ------------------------------------------------------------------ excitations


@dataclass(frozen=True)
class Excited:
    """An excitation as its template prints it: ``prefix`` names its sublayers
    (``channel`` -> ``channel_hidden``, ``channel_out``); ``inputs`` is how many
    descriptors it takes at once (``combine: concat``); the rest are its settings."""

    part: Excitation
    prefix: str
    inputs: int = 1
    maps: tuple[int, int] = (0, 0)  # a spatial excitation's: (C maps, single maps)
    width: Width | None = None
    activation: str = "relu"
    bias: bool = True
    norm: str = "none"
    norm_args: tuple[str, str] | None = None
    kernel: str | None = None  # "adaptive", or the argument holding the kernel size
    padding: str = "zero"
    training: bool = False  # its norm behaves differently in training
    positions: bool = False  # it excites every position of a map, not one vector
    zero_start: bool = False  # its last layer starts at zero (a term added to x)


class Excitation(Part):
    """Base of the excitations; ``branch`` is the branch kind it belongs to."""

    branch: ClassVar[str]
    #: Papers cited when its branch is the block's only one (an SE block).
    alone_references: ClassVar[tuple[str, ...]] = ()
    #: Whether it acts on each position's channels alone (so it can excite the
    #: descriptors of an extent's windows).
    positionwise: ClassVar[bool] = False

    def plan(
        self, branch: Any, ctx: Contributions, prefix: str, inputs: int
    ) -> Excited:
        raise NotImplementedError

    def weights(
        self, branch: Any, ctx: Contributions, prefix: str, inputs: int
    ) -> None:
        """Add its rows to the docstring's weights table."""
        raise NotImplementedError

    def describe(
        self, branch: Any, terms: list[str], combine: str
    ) -> tuple[str, list[str]]:
        """The docstring's logits for pooled ``terms`` and the lines that define it."""
        raise NotImplementedError

    def aside(self, branch: Any) -> str:
        """What the branch's first docstring line says after the gate, if anything."""
        return ""


def _inputs_text(inputs: int) -> str:
    return "C" if inputs == 1 else f"{inputs} * C"


def _joined(symbol: str, terms: list[str], combine: str) -> str:
    if combine == "concat":
        return f"{symbol}([{', '.join(terms)}])"
    return " + ".join(f"{symbol}({t})" for t in terms)


# ------------------------------------------------------------------ channel branch


class ChannelExcitation(Excitation):
    branch: ClassVar[str] = "channel"


CHANNEL_NORM = Key(
    Literal["none", "batch", "layer"],
    "none",
    "normalization of the hidden layer: BatchNormalization (BAM) or "
    "LayerNormalization over the hidden units (GCNet)",
)


class Mlp(ChannelExcitation):
    name = "mlp"
    summary = "Dense-act-Dense"
    references = (CBAM,)
    alone_references = (SE,)
    positionwise = True
    title = "two-layer perceptron"
    formula = "Dense(C) . activation . [norm] . Dense(hidden)"
    citation = "Hu et al. 2018, Squeeze-and-Excitation, arXiv:1709.01507"
    template = "excitations/mlp.py.j2"
    keys = {
        **k.WIDTH,
        "activation": k.ACTIVATION,
        "bias": k.BIAS,
        "norm": CHANNEL_NORM,
        "norm_momentum": k.NORM_MOMENTUM,
        "norm_epsilon": k.NORM_EPSILON,
    }

    def inactive(self, branch, name):
        yield from WidthRule.rules(branch, name, (name, "excite"))
        yield from norm_rules(branch, name, ("batch", "layer"))

    def plan(self, branch, ctx, prefix, inputs):
        width = WidthRule.plan(branch, ctx, "", "channel MLP")
        return self.excited(branch, ctx, prefix, inputs, width)

    def excited(self, branch, ctx, prefix, inputs, width) -> Excited:
        return Excited(
            self,
            prefix,
            inputs,
            width=width,
            activation=branch.activation,
            bias=branch.bias,
            norm=branch.norm,
            norm_args=norm_args(branch, ctx, "channel_", "the channel MLP's"),
            training=branch.norm == "batch",
        )

    def weights(self, branch, ctx, prefix, inputs):
        ctx.weight(f"{prefix}_hidden/kernel", f"({_inputs_text(inputs)}, hidden)")
        if branch.bias:
            ctx.weight(f"{prefix}_hidden/bias", "(hidden,)")
        norm_weights(ctx, f"{prefix}_norm", branch.norm, "(hidden,)")
        ctx.weight(f"{prefix}_out/kernel", "(hidden, C)")
        if branch.bias:
            ctx.weight(f"{prefix}_out/bias", "(C,)")

    def describe(self, branch, terms, combine):
        norm = f" . {NORM_TITLES[branch.norm]}" if branch.norm != "none" else ""
        act = "" if branch.activation == "none" else f" . {branch.activation}"
        line = f"E = Dense(C){act}{norm} . Dense(hidden), {WidthRule.describe(branch)}"
        return _joined("E", terms, combine), [line]


class Linear(ChannelExcitation):
    name = "linear"
    summary = "one Dense (eSE)"
    alone_references = (SE,)
    positionwise = True
    title = "one linear layer"
    formula = "Dense(C)"
    citation = "Lee & Park 2020, CenterMask (effective SE), arXiv:1911.06667"
    template = "excitations/linear.py.j2"
    keys = {"bias": k.BIAS}

    def plan(self, branch, ctx, prefix, inputs):
        return Excited(self, prefix, inputs, bias=branch.bias)

    def weights(self, branch, ctx, prefix, inputs):
        ctx.weight(f"{prefix}_out/kernel", f"({_inputs_text(inputs)}, C)")
        if branch.bias:
            ctx.weight(f"{prefix}_out/bias", "(C,)")

    def describe(self, branch, terms, combine):
        return _joined("E", terms, combine), [
            "E = Dense(C), one linear layer (effective SE)"
        ]


def _kernel(branch: Any, ctx: Contributions) -> str:
    """conv1d's kernel size: computed in build() (adaptive) or an argument."""
    if branch.kernel_size == "adaptive":
        return "adaptive"
    return ctx.arg(
        "channel_kernel_size",
        branch.kernel_size,
        "kernel size of the 1-D convolution across channels",
    )


def _kernel_text(branch: Any) -> str:
    return "k" if branch.kernel_size == "adaptive" else str(branch.kernel_size)


ADAPTIVE_RULE = "k = t or t + 1, odd, at least 3, t = int(|log2(C) + 1| / 2)"


def _padding_rules(branch: Any, name: str) -> Iterator[Problem]:
    if branch.padding == "circular" and branch.kernel_size == 1:
        yield Problem(
            (name, "padding"),
            "a 1-D convolution of kernel size 1 pads nothing, so 'padding' has no "
            "effect; remove it or widen 'kernel_size'",
            reads=((name, "excite"), (name, "kernel_size")),
        )


class Conv1d(ChannelExcitation):
    name = "conv1d"
    summary = "ECA-Net"
    references = (ECA,)
    title = "1-D convolution across channels"
    formula = "conv1d_k over the descriptors' channel axis, no bias"
    citation = "Wang et al. 2020, ECA-Net, arXiv:1910.03151"
    template = "excitations/conv1d.py.j2"
    keys = {"kernel_size": k.KERNEL_SIZE_1D, "padding": k.PADDING}
    refuses = {"bias": "excite: conv1d has no bias (ECA-Net); remove 'bias'"}

    def inactive(self, branch, name):
        yield from _padding_rules(branch, name)

    def plan(self, branch, ctx, prefix, inputs):
        kernel = _kernel(branch, ctx)
        return Excited(
            self, prefix, inputs, bias=False, kernel=kernel, padding=branch.padding
        )

    def weights(self, branch, ctx, prefix, inputs):
        ctx.weight(f"{prefix}_conv1d/kernel", f"(k, {inputs}, 1)")

    def describe(self, branch, terms, combine):
        conv = f"conv1d_{_kernel_text(branch)}"
        if combine == "concat":
            logits = f"{conv}([{', '.join(terms)}])"
        else:
            logits = f"{conv}({' + '.join(terms)})"
        padding = ", circular padding" if branch.padding == "circular" else ""
        if branch.kernel_size == "adaptive":
            line = (
                f"conv1d_k: a 1-D convolution across channels{padding}, no bias, "
                + ADAPTIVE_RULE
            )
        else:
            line = f"{conv}: a 1-D convolution across channels{padding}, no bias"
        return logits, [line]


class Conv1dMlp(ChannelExcitation):
    name = "conv1d_mlp"
    summary = "ECA with timm's MLP"
    references = (ECA,)
    title = "per-channel perceptron, then a 1-D convolution across channels"
    formula = (
        "conv1d_k(hidden -> 1) . activation . conv1d_1(1 -> hidden), with biases "
        "(bias: true): timm's EcaModule(use_mlp=True)"
    )
    citation = "Wang et al. 2020, ECA-Net, arXiv:1910.03151; timm's 'ecam'"
    template = "excitations/conv1d_mlp.py.j2"
    keys = {
        "kernel_size": k.KERNEL_SIZE_1D,
        "padding": k.PADDING,
        **k.WIDTH,
        "activation": k.ACTIVATION,
        "bias": k.BIAS,
    }

    def inactive(self, branch, name):
        yield from WidthRule.rules(branch, name, (name, "excite"))
        yield from _padding_rules(branch, name)

    def plan(self, branch, ctx, prefix, inputs):
        width = WidthRule.plan(branch, ctx, "", "per-channel MLP")
        kernel = _kernel(branch, ctx)
        return Excited(
            self,
            prefix,
            inputs,
            width=width,
            activation=branch.activation,
            bias=branch.bias,
            kernel=kernel,
            padding=branch.padding,
        )

    def weights(self, branch, ctx, prefix, inputs):
        ctx.weight(f"{prefix}_hidden/kernel", f"(1, {inputs}, hidden)")
        if branch.bias:
            ctx.weight(f"{prefix}_hidden/bias", "(hidden,)")
        ctx.weight(f"{prefix}_conv1d/kernel", "(k, hidden, 1)")
        if branch.bias:
            ctx.weight(f"{prefix}_conv1d/bias", "(1,)")

    def describe(self, branch, terms, combine):
        conv = f"conv1d_{_kernel_text(branch)}"
        act = "" if branch.activation == "none" else f" . {branch.activation}"
        padding = ", circular padding" if branch.padding == "circular" else ""
        lines = [
            f"E = {conv} . {act[3:] + ' . ' if act else ''}conv1d_1: each channel's "
            f"descriptor to hidden values (a 1x1 conv), then a 1-D convolution across "
            f"channels back to one{padding}, {WidthRule.describe(branch)}"
        ]
        if branch.kernel_size == "adaptive":
            lines.append(f"{conv}: " + ADAPTIVE_RULE)
        return _joined("E", terms, combine), lines


CHANNEL_EXCITATIONS = registry(Mlp(), Conv1d(), Linear(), Conv1dMlp())


# ------------------------------------------------------------------ spatial branch


class SpatialExcitation(Excitation):
    branch: ClassVar[str] = "spatial"


SPATIAL_KERNEL = Key(
    number(integer=True, ge=1, le=63, odd=True),
    7,
    "odd kernel size of the conv that makes the attention map",
)
SPATIAL_DILATION = Key(number(integer=True, ge=1, le=32), 1, "dilation of that conv")
SPATIAL_BIAS = Key(bool, True, "bias of the branch's convs")
SPATIAL_NORM = Key(
    Literal["none", "batch"],
    "none",
    "batch: BatchNormalization after the conv (CBAM's code, timm); with excite: "
    "bottleneck, after each hidden conv (BAM)",
)
SPATIAL_NORM_KEYS = {
    "norm_momentum": k.NORM_MOMENTUM,
    "norm_epsilon": Key(number(gt=0, le=1), 1e-5, "norm: batch; epsilon"),
}
DEPTH = Key(
    number(integer=True, ge=0, le=8), 2, "hidden k x k convs between the 1x1 convs"
)


def _conv_keys() -> dict[str, Key]:
    return {
        "kernel_size": SPATIAL_KERNEL,
        "dilation": SPATIAL_DILATION,
        "bias": SPATIAL_BIAS,
        "norm": SPATIAL_NORM,
        **SPATIAL_NORM_KEYS,
    }


def _spatial_conv_args(branch: Any, ctx: Contributions) -> None:
    ctx.arg(
        "spatial_kernel_size",
        branch.kernel_size,
        "the spatial conv's size and dilation",
    )
    ctx.arg("spatial_dilation", branch.dilation)


class Conv(SpatialExcitation):
    name = "conv"
    summary = "one k x k conv of the maps (CBAM)"
    references = (CBAM,)
    title = "one convolution of the pooled maps"
    formula = "conv_kxk(maps) to one map, then [BatchNorm]"
    citation = "Woo et al. 2018, CBAM, arXiv:1807.06521"
    template = "excitations/conv.py.j2"
    keys = _conv_keys()

    def inactive(self, branch, name):
        yield from norm_rules(branch, name, ("batch",))

    def plan(self, branch, ctx, prefix, inputs):
        _spatial_conv_args(branch, ctx)
        return Excited(
            self,
            prefix,
            maps=inputs,
            bias=branch.bias,
            norm=branch.norm,
            norm_args=norm_args(branch, ctx, ""),
            training=branch.norm == "batch",
        )

    def describe(self, branch, terms, combine):
        k_ = branch.kernel_size
        conv = f"conv{k_}x{k_}([{', '.join(terms)}])"
        return (f"BatchNorm({conv})" if branch.norm == "batch" else conv), []

    def aside(self, branch):
        return f", dilation {branch.dilation}" if branch.dilation != 1 else ""

    def weights(self, branch, ctx, prefix, inputs):
        k_ = branch.kernel_size
        ctx.weight("spatial_conv/kernel", f"({k_}, {k_}, {inputs}, 1)")
        if branch.bias:
            ctx.weight("spatial_conv/bias", "(1,)")
        norm_weights(ctx, "spatial_norm", branch.norm, "(1,)")


class Bottleneck(SpatialExcitation):
    name = "bottleneck"
    summary = "1x1, dilated k x k convs, 1x1 (BAM)"
    references = ("Park et al. 2018, BAM, arXiv:1807.06514",)
    title = "a bottleneck of dilated convolutions"
    formula = (
        "conv_1x1(hidden -> 1) . depth x [activation . norm . conv_kxk, dilated] . "
        "activation . norm . conv_1x1(maps -> hidden)"
    )
    citation = "Park et al. 2018, BAM, arXiv:1807.06514"
    template = "excitations/bottleneck.py.j2"
    keys = {**_conv_keys(), **k.WIDTH, "depth": DEPTH, "activation": k.ACTIVATION}

    def inactive(self, branch, name):
        yield from WidthRule.rules(branch, name, (name, "excite"))
        yield from norm_rules(branch, name, ("batch",))
        if branch.depth == 0:
            for key in ("kernel_size", "dilation"):
                yield Problem(
                    (name, key),
                    f"with depth: 0 the bottleneck has no k x k conv, so '{key}' has no "
                    "effect; remove it or raise 'depth'",
                    reads=((name, "excite"), (name, "depth")),
                )

    def plan(self, branch, ctx, prefix, inputs):
        width = WidthRule.plan(branch, ctx, "spatial_", "spatial bottleneck", "reduced")
        _spatial_conv_args(branch, ctx)
        ctx.arg("spatial_depth", branch.depth, "how many dilated convs")
        return Excited(
            self,
            prefix,
            maps=inputs,
            width=width,
            activation=branch.activation,
            bias=branch.bias,
            norm=branch.norm,
            norm_args=norm_args(branch, ctx, "", "the spatial bottleneck's"),
            training=branch.norm == "batch",
        )

    def describe(self, branch, terms, combine):
        k_ = branch.kernel_size
        norm = " . BatchNorm" if branch.norm == "batch" else ""
        act = "" if branch.activation == "none" else f"{branch.activation}"
        layer = " . ".join(filter(None, [act, norm[3:]]))
        layer = f"{layer} . " if layer else ""
        dilated = f"conv{k_}x{k_}" + (
            f", dilation {branch.dilation}" if branch.dilation != 1 else ""
        )
        line = (
            f"B = conv1x1(-> 1) . {branch.depth} x [{layer}{dilated}] . {layer}"
            f"conv1x1(-> hidden), {WidthRule.describe(branch)}"
        )
        return f"B([{', '.join(terms)}])", [line]

    def weights(self, branch, ctx, prefix, inputs):
        bias = branch.bias
        k_ = branch.kernel_size
        ctx.weight("spatial_reduce/kernel", f"(1, 1, {inputs}, hidden)")
        if bias:
            ctx.weight("spatial_reduce/bias", "(hidden,)")
        norm_weights(ctx, "spatial_reduce_norm", branch.norm, "(hidden,)")
        for i in range(1, branch.depth + 1):
            ctx.weight(f"spatial_conv{i}/kernel", f"({k_}, {k_}, hidden, hidden)")
            if bias:
                ctx.weight(f"spatial_conv{i}/bias", "(hidden,)")
            norm_weights(ctx, f"spatial_norm{i}", branch.norm, "(hidden,)")
        ctx.weight("spatial_out/kernel", "(1, 1, hidden, 1)")
        if bias:
            ctx.weight("spatial_out/bias", "(1,)")


SPATIAL_EXCITATIONS = registry(Conv(), Bottleneck())


# --------------------------------------------------------------- coordinate branch


class CoordinateExcitation(Excitation):
    branch: ClassVar[str] = "coordinate"
    #: The norms it takes besides none; the other coordinate excitations' are errors.
    norms: ClassVar[tuple[str, ...]]

    def inactive(self, branch, name):
        if branch.norm == "none" or branch.norm in self.norms:
            yield from norm_rules(branch, name, self.norms)

    def rules(self, branch, name):
        if branch.norm == "none" or branch.norm in self.norms:
            return
        other = next(
            e.name for e in COORDINATE_EXCITATIONS.values() if branch.norm in e.norms
        )
        yield Problem(
            (name, "norm"),
            f"norm: {branch.norm} is for excite: {other}; {self.name} takes "
            f"{one_or_list(('none', *self.norms))}",
            True,
            reads=((name, "excite"),),
        )


COORDINATE_NORM = Key(
    Literal["none", "batch", "layer", "group"],
    "none",
    "normalization after the first layer: batch, layer (shared) or group (one "
    "group over each strip's channels and positions; depthwise)",
)
COORDINATE_BIAS = Key(bool, True, "biases of the excitation's layers")
STRIP_KERNEL = Key(
    number(integer=True, ge=1, le=63, odd=True),
    7,
    "odd kernel size of the depthwise 1-D convs along each strip",
)


def _coordinate_norm_keys() -> dict[str, Key]:
    return {
        "norm": COORDINATE_NORM,
        "norm_momentum": k.NORM_MOMENTUM,
        "norm_epsilon": k.NORM_EPSILON,
    }


class Shared(CoordinateExcitation):
    name = "shared"
    summary = (
        "one 1x1 bottleneck for both strips, then one 1x1 layer per axis "
        "(coordinate attention)"
    )
    references = ("Hou et al. 2021, Coordinate Attention, arXiv:2103.02907",)
    title = "a shared 1x1 bottleneck, then one 1x1 layer per axis"
    formula = (
        "a_h, a_w = Dense_h(C), Dense_w(C) of activation . norm . Dense(hidden) of "
        "both strips joined"
    )
    citation = "Hou et al. 2021, Coordinate Attention, arXiv:2103.02907"
    template = "excitations/shared.py.j2"
    keys = {
        **k.WIDTH,
        "activation": k.ACTIVATION,
        "bias": COORDINATE_BIAS,
        **_coordinate_norm_keys(),
    }

    norms = ("batch", "layer")

    def inactive(self, branch, name):
        yield from WidthRule.rules(branch, name, (name, "excite"))
        yield from super().inactive(branch, name)

    def plan(self, branch, ctx, prefix, inputs):
        ctx.calls.add("_shape")  # the strips' length, to split them
        width = WidthRule.plan(branch, ctx, "coordinate_", "coordinate bottleneck")
        return Excited(
            self,
            prefix,
            inputs,
            width=width,
            activation=branch.activation,
            bias=branch.bias,
            norm=branch.norm,
            norm_args=norm_args(branch, ctx, "coordinate_", "the bottleneck's"),
            training=branch.norm == "batch",
        )

    def describe(self, branch, terms, combine):
        norm = f" . {NORM_TITLES[branch.norm]}" if branch.norm != "none" else ""
        act = "" if branch.activation == "none" else f" . {branch.activation}"
        line = (
            f"a_h, a_w = Dense_h(C), Dense_w(C) of{act[2:]}{norm} . Dense(hidden) of "
            f"h and w joined along their positions, {WidthRule.describe(branch)}"
        )
        return "", [line]

    def weights(self, branch, ctx, prefix, inputs):
        ctx.weight("coordinate_hidden/kernel", f"({_inputs_text(inputs)}, hidden)")
        if branch.bias:
            ctx.weight("coordinate_hidden/bias", "(hidden,)")
        norm_weights(ctx, "coordinate_norm", branch.norm, "(hidden,)")
        for axis in ("height", "width"):
            ctx.weight(f"coordinate_{axis}/kernel", "(hidden, C)")
            if branch.bias:
                ctx.weight(f"coordinate_{axis}/bias", "(C,)")


class Depthwise(CoordinateExcitation):
    name = "depthwise"
    summary = "a depthwise 1-D conv along each strip (ELA, strip attention)"
    references = ("Xu & Wan 2024, ELA, arXiv:2403.01123",)
    title = "a depthwise 1-D convolution along each strip"
    formula = "a_h = activation . norm . dwconv_k(h), a_w likewise with its own weights"
    citation = "Xu & Wan 2024, ELA, arXiv:2403.01123"
    template = "excitations/depthwise.py.j2"
    keys = {
        "kernel_size": STRIP_KERNEL,
        "bias": COORDINATE_BIAS,
        "activation": k.ACTIVATION,
        **_coordinate_norm_keys(),
    }

    norms = ("batch", "group")

    def plan(self, branch, ctx, prefix, inputs):
        if branch.norm == "group":
            ctx.calls.add("_group_norm")
        ctx.arg(
            "coordinate_kernel_size",
            branch.kernel_size,
            "kernel size of the depthwise convs along each strip",
        )
        return Excited(
            self,
            prefix,
            inputs,
            activation=branch.activation,
            bias=branch.bias,
            norm=branch.norm,
            norm_args=norm_args(branch, ctx, "coordinate_", "the strips'"),
            kernel="coordinate_kernel_size",
            training=branch.norm == "batch",
        )

    def describe(self, branch, terms, combine):
        steps = [
            branch.activation if branch.activation != "none" else "",
            NORM_TITLES.get(branch.norm, ""),
            f"dwconv_{branch.kernel_size}(h)",
        ]
        line = (
            f"a_h = {' . '.join(filter(None, steps))}, a_w likewise of w (its own "
            "weights); dwconv: a depthwise 1-D conv along the strip"
        )
        return "", [line]

    def weights(self, branch, ctx, prefix, inputs):
        for axis, kernel in (("height", "(k, 1, C, 1)"), ("width", "(1, k, C, 1)")):
            ctx.weight(f"coordinate_{axis}_conv/kernel", kernel)
            if branch.bias:
                ctx.weight(f"coordinate_{axis}_conv/bias", "(C,)")
            norm_weights(ctx, f"coordinate_{axis}_norm", branch.norm, "(C,)")


COORDINATE_EXCITATIONS = registry(Shared(), Depthwise())
