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


def _version(value: Any) -> int:
    if isinstance(value, bool) or value not in SUPPORTED_VERSIONS:
        raise ValueError(
            f"unsupported spec version {value!r}; this cbamgen reads version "
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


class ChannelBranch(BaseModel):
    """Channel attention: pool each channel's map to descriptors, excite, gate channels."""

    model_config = STRICT

    pools: Annotated[list[PoolSpec], _pool_list(DEFAULT_CHANNEL_POOLS)]
    combine: Literal["sum", "concat"] = "sum"
    excite: Literal["mlp", "conv1d", "linear"] = "mlp"
    reduction: number(gt=0, le=1e6) = 16
    hidden: number(integer=True, ge=1, le=1_000_000) | None = None
    rounding: Literal["floor", "nearest"] = "floor"
    divisor: number(integer=True, ge=1, le=4096) = 1
    min_hidden: number(integer=True, ge=1, le=1_000_000) = 1
    activation: Literal["relu", "gelu", "silu", "tanh"] = "relu"
    bias: bool = True
    kernel_size: number(integer=True, ge=1, le=63, odd=True, also=("adaptive",)) = (
        "adaptive"
    )
    gate: Literal["sigmoid", "hard_sigmoid"] = "sigmoid"


class SpatialBranch(BaseModel):
    """Spatial attention: pool across channels to maps, convolve to one map, gate pixels."""

    model_config = STRICT

    pools: Annotated[list[PoolSpec], _pool_list(DEFAULT_SPATIAL_POOLS)]
    kernel_size: number(integer=True, ge=1, le=63, odd=True) = 7
    dilation: number(integer=True, ge=1, le=32) = 1
    bias: bool = True
    norm: Literal["none", "batch"] = "none"
    norm_momentum: number(ge=0, lt=1) = 0.99
    norm_epsilon: number(gt=0, le=1) = 1e-5
    gate: Literal["sigmoid", "hard_sigmoid"] = "sigmoid"


class Gamma(BaseModel):
    """A learnable scalar gate around the whole block."""

    model_config = STRICT

    mode: Literal["blend", "residual", "none"]
    init: number(ge=-1e6, le=1e6) = 0.0


class Spec(BaseModel):
    """One attention block: the whole of one spec file."""

    model_config = STRICT

    cbamgen: Annotated[Any, AfterValidator(_version)]
    name: Annotated[text(max_length=100), AfterValidator(_class_name)]
    description: text(max_length=10_000) | None = None
    target: Literal["keras3", "tf_keras"] = "keras3"
    data_format: Literal["channels_last", "channels_first"] = "channels_last"
    channel: ChannelBranch | None = None
    spatial: SpatialBranch | None = None
    fusion: Literal["sequential", "spatial_first", "add", "multiply", "mean"] = (
        "sequential"
    )
    gamma: Gamma | None = None

    @property
    def gamma_mode(self) -> str:
        return self.gamma.mode if self.gamma is not None else "none"
