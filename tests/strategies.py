"""Hypothesis strategies that draw whole specs from the spec language's vocabulary.

Pool parameters are drawn from each catalogue model's JSON schema, so a pool added to the
catalogue is drawn here without editing this file.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from cbamgen.catalogue import POOLS

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


@st.composite
def pools(draw, allow_window: bool = False) -> Any:
    kind = draw(st.sampled_from(sorted(POOLS)))
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
    if allow_window and draw(st.integers(0, 3)) == 0:
        settings["window"] = draw(st.sampled_from([1, 3, 5]))
        settings.pop("sampler", None)  # a window has one sampler
    if not settings and draw(st.booleans()):
        return kind
    return {"type": kind, **settings}


@st.composite
def channel_branches(draw) -> dict[str, Any]:
    branch: dict[str, Any] = {
        "pools": draw(st.lists(pools(), min_size=1, max_size=3)),
        "combine": draw(st.sampled_from(["sum", "concat"])),
        "excite": draw(st.sampled_from(["mlp", "linear", "conv1d"])),
        "gate": draw(st.sampled_from(["sigmoid", "hard_sigmoid"])),
    }
    if branch["excite"] == "mlp":
        if draw(st.booleans()):
            branch["hidden"] = draw(st.integers(1, 12))
        else:
            branch["reduction"] = draw(st.sampled_from([0.5, 1, 2, 3.5, 4, 16]))
            branch["rounding"] = draw(st.sampled_from(["floor", "nearest"]))
            branch["divisor"] = draw(st.sampled_from([1, 2, 8]))
            branch["min_hidden"] = draw(st.sampled_from([1, 3]))
        branch["activation"] = draw(st.sampled_from(["relu", "gelu", "silu", "tanh"]))
    if branch["excite"] != "conv1d":
        branch["bias"] = draw(st.booleans())
    if branch["excite"] == "conv1d":
        branch["kernel_size"] = draw(st.sampled_from(["adaptive", 1, 3, 5]))
    return branch


@st.composite
def spatial_branches(draw) -> dict[str, Any]:
    branch: dict[str, Any] = {
        "pools": draw(st.lists(pools(allow_window=True), min_size=1, max_size=3)),
        "kernel_size": draw(st.sampled_from([1, 3, 5, 7])),
        "dilation": draw(st.sampled_from([1, 2])),
        "bias": draw(st.booleans()),
        "gate": draw(st.sampled_from(["sigmoid", "hard_sigmoid"])),
    }
    if draw(st.booleans()):
        branch["norm"] = "batch"
        branch["norm_momentum"] = draw(st.sampled_from([0.9, 0.99]))
        branch["norm_epsilon"] = draw(st.sampled_from([1e-5, 1e-3]))
    return branch


@st.composite
def specs(draw) -> dict[str, Any]:
    which = draw(st.sampled_from(["channel", "spatial", "both", "both"]))
    spec: dict[str, Any] = {
        "cbamgen": 1,
        "name": "Drawn",
        "data_format": draw(st.sampled_from(["channels_last", "channels_first"])),
    }
    if which in ("channel", "both"):
        spec["channel"] = draw(channel_branches())
    if which in ("spatial", "both"):
        spec["spatial"] = draw(spatial_branches())
    if which == "both":
        spec["fusion"] = draw(
            st.sampled_from(["sequential", "spatial_first", "add", "multiply", "mean"])
        )
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
