"""Hypothesis strategies that draw whole specs from the spec language's vocabulary.

Pools and their parameters are drawn from the catalogue (each pool's JSON schema and
the regions it can reduce), and so are excitations, fusions and gates: an entry added
to the catalogue is drawn here without editing this file, as long as its keys are
those of the catalogue's shared keys.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cbamgen.catalogue import ACTIVATIONS as CATALOGUE_ACTIVATIONS
from cbamgen.catalogue import EXCITATIONS, FUSIONS, GATES, POOLS

#: Upper ends for drawn numbers: the language allows more, these keep values realistic.
_NUMBER_CAP = 6.0


def _number(schema: dict[str, Any]) -> st.SearchStrategy:
    if "anyOf" in schema:
        return st.one_of(*(_number(s) for s in schema["anyOf"]))
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    low = schema.get("minimum", schema.get("exclusiveMinimum", 0.0))
    high = min(
        schema.get("maximum", schema.get("exclusiveMaximum", _NUMBER_CAP)),
        low + _NUMBER_CAP,
    )
    if schema["type"] == "integer":
        return st.integers(int(low), int(high))
    exclude_low = "exclusiveMinimum" in schema
    exclude_high = "exclusiveMaximum" in schema
    return (
        st.floats(
            low,
            high,
            exclude_min=exclude_low,
            exclude_max=exclude_high,
            allow_nan=False,
        )
        .map(lambda v: round(v, 3))
        .filter(
            lambda v: (v > low if exclude_low else v >= low)
            and (v < high if exclude_high else v <= high)
        )
    )


def _field(schema: dict[str, Any]) -> st.SearchStrategy:
    if "enum" in schema:
        return st.sampled_from(schema["enum"])
    if "const" in schema:
        return st.just(schema["const"])
    if schema.get("type") == "boolean":
        return st.booleans()
    return _number(schema)


def kinds(region: str) -> list[str]:
    """The pools that can reduce ``region``."""
    return sorted(name for name, cls in POOLS.items() if region in cls.regions)


@st.composite
def pools(draw, region: str = "map", allow_window: bool = False) -> Any:
    kind = draw(st.sampled_from(kinds(region)))
    schema = POOLS[kind].model_json_schema()
    settings: dict[str, Any] = {}
    for key, field in schema.get("properties", {}).items():
        if key in ("type", "window"):
            continue
        if draw(st.booleans()):
            settings[key] = draw(_field(field))
    if (
        kind == "mixed"
        and settings.get("trainable")
        and settings.get("alpha", 0.5) in (0, 1)
    ):
        settings["alpha"] = 0.5
    windowed = allow_window and "window" in POOLS[kind].regions
    if windowed and not POOLS[kind].keeps_channels and draw(st.integers(0, 3)) == 0:
        settings["window"] = draw(st.sampled_from([1, 3, 5]))
        settings.pop("sampler", None)  # a window has one sampler
    if not settings and draw(st.booleans()):
        return kind
    return {"type": kind, **settings}


def _width(draw, branch: dict[str, Any]) -> None:
    if draw(st.booleans()):
        branch["hidden"] = draw(st.integers(1, 12))
    else:
        branch["reduction"] = draw(st.sampled_from([0.5, 1, 2, 3.5, 4, 16]))
        branch["rounding"] = draw(st.sampled_from(["floor", "nearest"]))
        branch["divisor"] = draw(st.sampled_from([1, 2, 8]))
        branch["min_hidden"] = draw(st.sampled_from([1, 3]))
        branch["round_limit"] = draw(st.sampled_from([0, 0.9]))


def _norm(draw, branch: dict[str, Any], norms: list[str]) -> None:
    norm = draw(st.sampled_from(["none", *norms]))
    branch["norm"] = norm
    if norm == "batch":
        branch["norm_momentum"] = draw(st.sampled_from([0.9, 0.99]))
    if norm != "none":
        branch["norm_epsilon"] = draw(st.sampled_from([1e-5, 1e-3]))


ACTIVATIONS = list(CATALOGUE_ACTIVATIONS)


@st.composite
def channel_branches(draw, on_logits: bool = False) -> dict[str, Any]:
    extent = draw(st.sampled_from(["global", "global", "global", 2, 3]))
    excitations = sorted(
        name
        for name, part in EXCITATIONS["channel"].items()
        if extent == "global" or part.positionwise
    )
    branch: dict[str, Any] = {
        "pools": draw(
            st.lists(
                pools("map" if extent == "global" else "extent"),
                min_size=1,
                max_size=3,
            )
        ),
        "combine": draw(st.sampled_from(["sum", "concat"])),
        "excite": draw(st.sampled_from(excitations)),
    }
    if extent != "global":
        branch["extent"] = extent
    apply = (
        "multiply"
        if on_logits
        else draw(st.sampled_from(["multiply", "multiply", "add", "multiply_add"]))
    )
    branch["apply"] = apply
    if apply != "add" and not on_logits:
        branch["gate"] = draw(st.sampled_from(sorted(GATES)))
    _excitation_keys(draw, branch, EXCITATIONS["channel"][branch["excite"]])
    return branch


def _excitation_keys(draw, branch: dict[str, Any], part) -> None:
    """Values for the keys the chosen excitation reads (see its ``keys``)."""
    keys = part.keys
    if "reduction" in keys:
        _width(draw, branch)
    if "activation" in keys:
        branch["activation"] = draw(st.sampled_from(ACTIVATIONS))
    if "norm" in keys and "norm" not in branch:
        norms = keys["norm"].annotation.__args__
        refused = {"shared": "group", "depthwise": "layer"}.get(part.name)
        _norm(draw, branch, [n for n in norms if n not in ("none", refused)])
    if "bias" in keys:
        branch["bias"] = draw(st.booleans())
    if "kernel_size" in keys and "kernel_size" not in branch:
        choices = ["adaptive", 1, 3, 5] if "padding" in keys else [1, 3, 7]
        branch["kernel_size"] = draw(st.sampled_from(choices))
    if "padding" in keys and branch.get("kernel_size") != 1:  # nothing to pad at 1
        branch["padding"] = draw(st.sampled_from(["zero", "circular"]))
    if "depth" in keys:
        branch["depth"] = draw(st.integers(0, 2))
        if branch["depth"] == 0:  # no k x k conv: its size and dilation mean nothing
            branch.pop("kernel_size", None)
            branch.pop("dilation", None)


@st.composite
def spatial_branches(draw, on_logits: bool = False) -> dict[str, Any]:
    branch: dict[str, Any] = {
        "pools": draw(
            st.lists(pools("across", allow_window=True), min_size=1, max_size=3)
        ),
        "excite": draw(st.sampled_from(sorted(EXCITATIONS["spatial"]))),
        "kernel_size": draw(st.sampled_from([1, 3, 5, 7])),
        "dilation": draw(st.sampled_from([1, 2])),
        "bias": draw(st.booleans()),
    }
    if not on_logits:
        branch["gate"] = draw(st.sampled_from(sorted(GATES)))
    if draw(st.booleans()):
        branch["norm"] = "batch"
        branch["norm_momentum"] = draw(st.sampled_from([0.9, 0.99]))
        branch["norm_epsilon"] = draw(st.sampled_from([1e-5, 1e-3]))
    _excitation_keys(draw, branch, EXCITATIONS["spatial"][branch["excite"]])
    return branch


@st.composite
def coordinate_branches(draw) -> dict[str, Any]:
    branch: dict[str, Any] = {
        "pools": [draw(pools("strip"))],
        "excite": draw(st.sampled_from(sorted(EXCITATIONS["coordinate"]))),
        "join": draw(st.sampled_from(["multiply", "add"])),
        "gate": draw(st.sampled_from(sorted(GATES))),
    }
    _excitation_keys(draw, branch, EXCITATIONS["coordinate"][branch["excite"]])
    return branch


@st.composite
def specs(draw) -> dict[str, Any]:
    which = draw(
        st.sampled_from(
            ["channel", "spatial", "both", "both", "both", "coordinate", "energy"]
        )
    )
    spec: dict[str, Any] = {
        "cbamgen": 1,
        "name": "Drawn",
        "data_format": draw(st.sampled_from(["channels_last", "channels_first"])),
    }
    fusion = draw(st.sampled_from(sorted(FUSIONS))) if which == "both" else None
    on_logits = fusion is not None and FUSIONS[fusion].on_logits
    if which in ("channel", "both"):
        spec["channel"] = draw(channel_branches(on_logits))
    if which in ("spatial", "both"):
        spec["spatial"] = draw(spatial_branches(on_logits))
    if which == "coordinate":
        spec["coordinate"] = draw(coordinate_branches())
    if which == "energy":
        spec["energy"] = {
            "lambda": draw(st.sampled_from([1e-4, 0.1, 2.0])),
            "gate": draw(st.sampled_from(sorted(GATES))),
        }
    if fusion is not None:
        spec["fusion"] = fusion
    mode = draw(st.sampled_from(["absent", "none", "blend", "residual"]))
    if mode == "none":
        spec["gamma"] = {"mode": "none"}
    elif mode != "absent":
        spec["gamma"] = {"mode": mode, "init": draw(st.sampled_from([0.0, 0.5, 1.0]))}
    return spec


@st.composite
def input_shapes(draw, data_format: str) -> tuple[int, int, int, int]:
    batch = draw(st.integers(1, 3))
    channels = draw(st.integers(1, 96))
    height = draw(st.integers(1, 17))
    width = draw(st.integers(1, 17))
    if data_format == "channels_last":
        return (batch, height, width, channels)
    return (batch, channels, height, width)
