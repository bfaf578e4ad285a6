"""The spec language (``SPEC-v1``) as typed, validated pydantic models.

These models check structure, types and ranges. Rules that relate several keys (a key
that only means something with another key's value) live in :mod:`cbamgen.rules`, so each
can point at the key that is wrong.
"""

from __future__ import annotations

import builtins
import keyword
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from .catalogue import PoolSpec
from .dialect import TARGETS
from .fields import STRICT, number, text

SUPPORTED_VERSIONS = (1,)
DEFAULT_CHANNEL_POOLS = ("avg", "max")
DEFAULT_SPATIAL_POOLS = ("max", "avg")

_CAPWORDS = re.compile(r"[A-Z][A-Za-z0-9]*\Z")


def _class_name(value: str) -> str:
    if not _CAPWORDS.match(value):
        raise ValueError(
            f"{value!r} is not a CapWords Python class name (letters and digits, starting "
            "with an upper-case ASCII letter, e.g. 'L2StochasticCBAM')"
        )
    if keyword.iskeyword(value) or hasattr(builtins, value):
        raise ValueError(
            f"{value!r} is a Python keyword or builtin; choose another name"
        )
    return value


def _yaml_text(value: Any) -> str:
    """A value as the user wrote it in YAML (true, not True; quoted text)."""
    return str(value).lower() if isinstance(value, bool) else repr(value)


def _version(value: Any) -> int:
    if isinstance(value, bool) or value not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"unsupported spec version {_yaml_text(value)}; this cbamgen reads version "
            + ", ".join(map(str, SUPPORTED_VERSIONS))
        )
    return value


def _pool_list(default: tuple[str, ...]):
    return Field(
        default_factory=lambda: [{"type": name} for name in default],
        min_length=1,
        validate_default=True,
        max_length=16,
    )


def _doc(default: Any, text: str) -> Any:
    return Field(default, description=text)


class ChannelBranch(BaseModel):
    """Channel attention: pool each channel's map to descriptors, excite, gate channels."""

    model_config = STRICT

    pools: Annotated[
        list[PoolSpec],
        _pool_list(DEFAULT_CHANNEL_POOLS),
        Field(
            description="pools giving one descriptor per channel (see cbamgen pools)"
        ),
    ]
    combine: Literal["sum", "concat"] = _doc(
        "sum", "sum: excite each descriptor, add (CBAM); concat: excite them joined"
    )
    excite: Literal["mlp", "conv1d", "linear"] = _doc(
        "mlp", "mlp: Dense-act-Dense; linear: one Dense (eSE); conv1d: ECA-Net"
    )
    reduction: number(ge=0.01, le=1e6) = _doc(
        16, "mlp: hidden width from C / reduction"
    )
    hidden: number(integer=True, ge=1, le=1_000_000) | None = _doc(
        None, "mlp: explicit hidden width (replaces reduction and its rounding keys)"
    )
    rounding: Literal["floor", "nearest"] = _doc(
        "floor", "mlp: round C / reduction down (CBAM) or to nearest (timm)"
    )
    divisor: number(integer=True, ge=1, le=4096) = _doc(
        1, "mlp: hidden width is a multiple of this"
    )
    min_hidden: number(integer=True, ge=1, le=1_000_000) = _doc(
        1, "mlp: hidden width is at least this"
    )
    activation: Literal["relu", "gelu", "silu", "tanh"] = _doc(
        "relu", "mlp: hidden activation (gelu is the exact erf form)"
    )
    bias: bool = _doc(True, "biases in the Dense layers (mlp, linear)")
    kernel_size: number(integer=True, ge=1, le=63, odd=True, also=("adaptive",)) = _doc(
        "adaptive", "conv1d: odd kernel size, or adaptive (ECA-Net's rule from C)"
    )
    gate: Literal["sigmoid", "hard_sigmoid"] = _doc(
        "sigmoid", "the attention gate; hard_sigmoid(z) = clip(z / 6 + 1/2, 0, 1)"
    )


class SpatialBranch(BaseModel):
    """Spatial attention: pool across channels to maps, convolve to one map, gate pixels."""

    model_config = STRICT

    pools: Annotated[
        list[PoolSpec],
        _pool_list(DEFAULT_SPATIAL_POOLS),
        Field(
            description="pools giving one map each, in conv input order; window: k "
            "pools each channel over k x k neighbourhoods instead"
        ),
    ]
    kernel_size: number(integer=True, ge=1, le=63, odd=True) = _doc(
        7, "odd kernel size of the conv that makes the attention map"
    )
    dilation: number(integer=True, ge=1, le=32) = _doc(1, "dilation of that conv")
    bias: bool = _doc(True, "bias of that conv")
    norm: Literal["none", "batch"] = _doc(
        "none", "batch: BatchNormalization after the conv (CBAM's code, timm)"
    )
    norm_momentum: number(ge=0, lt=1) = _doc(
        0.99, "norm: batch; Keras momentum (PyTorch 0.01 = Keras 0.99)"
    )
    norm_epsilon: number(gt=0, le=1) = _doc(1e-5, "norm: batch; epsilon")
    gate: Literal["sigmoid", "hard_sigmoid"] = _doc(
        "sigmoid", "the attention gate; hard_sigmoid(z) = clip(z / 6 + 1/2, 0, 1)"
    )


class Gamma(BaseModel):
    """A learnable scalar gate around the whole block."""

    model_config = STRICT

    mode: Literal["blend", "residual", "none"] = Field(
        description="blend: (1 - g) x + g y; residual: x + g y; none: y"
    )
    init: number(ge=-1e6, le=1e6) = _doc(0.0, "the starting value of gamma")


class Spec(BaseModel):
    """One attention block: the whole of one spec file."""

    model_config = STRICT

    cbamgen: Annotated[Any, AfterValidator(_version)] = Field(
        description="spec format version: 1",
        json_schema_extra={"const": 1},
    )
    name: Annotated[text(max_length=100), AfterValidator(_class_name)] = Field(
        description="the generated class name (CapWords)",
        json_schema_extra={"pattern": "^[A-Z][A-Za-z0-9]*$"},
    )
    description: text(max_length=10_000) | None = _doc(
        None, "free text for the generated docstring"
    )
    target: Literal[TARGETS] = _doc(
        "keras3",
        "keras3: Keras 3, any backend; tf_keras: Keras 2, TensorFlow 2.5 to 2.15",
    )
    data_format: Literal["channels_last", "channels_first"] = _doc(
        "channels_last", "input layout: (B, H, W, C) or (B, C, H, W)"
    )
    channel: ChannelBranch | None = _doc(None, "channel attention; absent: none")
    spatial: SpatialBranch | None = _doc(None, "spatial attention; absent: none")
    fusion: Literal["sequential", "spatial_first", "add", "multiply", "mean"] = _doc(
        "sequential", "S(C(x)), C(S(x)), C(x) + S(x), C(x) * S(x) or their mean"
    )
    gamma: Gamma | None = _doc(None, "optional learnable gate: {mode, init}")

    @property
    def gamma_mode(self) -> str:
        return self.gamma.mode if self.gamma is not None else "none"
