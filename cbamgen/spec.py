"""The spec language (``SPEC-v1``) as typed, validated pydantic models.

These models check structure, types and ranges. The branches' models are assembled by
the catalogue from the keys of their parts (:mod:`cbamgen.catalogue.branches`). Rules
that relate several keys (a key that only means something with another key's value)
live with the parts and in :mod:`cbamgen.rules`, so each can point at the key that is
wrong.
"""

from __future__ import annotations

import builtins
import keyword
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field

from .catalogue import FUSIONS, GAMMAS
from .catalogue.branches import (
    ChannelBranch,
    CoordinateBranch,
    EnergyBranch,
    SpatialBranch,
)
from .catalogue.parts import choice
from .dialect import TARGETS
from .fields import STRICT, number, text

SUPPORTED_VERSIONS = (1,)

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


def _doc(default: Any, text: str) -> Any:
    return Field(default, description=text)


class Gamma(BaseModel):
    """A learnable scalar gate around the whole block."""

    model_config = STRICT

    mode: choice(GAMMAS) = Field(
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
    coordinate: CoordinateBranch | None = _doc(
        None, "coordinate attention, a block of its own; absent: none"
    )
    energy: EnergyBranch | None = _doc(
        None, "SimAM's parameter-free energy gate, a block of its own; absent: none"
    )
    fusion: choice(FUSIONS) = _doc(
        "sequential",
        "how channel and spatial combine: "
        + "; ".join(f"{name}: {part.summary}" for name, part in FUSIONS.items()),
    )
    gamma: Gamma | None = _doc(None, "optional learnable gate: {mode, init}")

    @property
    def gamma_mode(self) -> str:
        return self.gamma.mode if self.gamma is not None else "none"

    def branches(self) -> dict[str, Any]:
        """The branches the spec has, by kind, in the catalogue's order."""
        from .catalogue import BRANCHES

        return {
            kind: getattr(self, kind)
            for kind in BRANCHES
            if getattr(self, kind) is not None
        }
