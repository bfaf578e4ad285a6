"""Field types shared by the spec models: strict, finite numbers with readable errors."""

from __future__ import annotations

import math
from typing import Annotated, Any

from pydantic import ConfigDict, PlainValidator, WithJsonSchema
from pydantic_core import PydanticCustomError

#: Every spec model: unknown keys are errors, no string-to-number coercion, immutable.
STRICT = ConfigDict(extra="forbid", strict=True, frozen=True, allow_inf_nan=False)


def _type_hint(value: Any, wanted: str) -> str:
    """What the value was, when its text alone could mislead, and how to fix it."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return " (text)"
        return f" (text, because it is quoted); write {wanted} without quotes"
    if value is None:
        return " (null)"
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return " (a number); write it in quotes"
    return ""


def _bounds_text(gt, ge, le, lt) -> str:
    parts = []
    if gt is not None:
        parts.append(f"> {gt}")
    if ge is not None:
        parts.append(f">= {ge}")
    if lt is not None:
        parts.append(f"< {lt}")
    if le is not None:
        parts.append(f"<= {le}")
    return " and ".join(parts)


def number(
    *,
    gt=None,
    ge=None,
    le=None,
    lt=None,
    integer: bool = False,
    odd: bool = False,
    also: tuple[str, ...] = (),
):
    """An int or float (never a bool or a quoted string), finite and within bounds.

    ints stay ints, so a spec's ``reduction: 16`` is printed back as ``16``, not ``16.0``.
    ``also`` lists words accepted in place of a number (``kernel_size: adaptive``).
    """
    wanted = "an odd integer" if odd else "an integer" if integer else "a number"
    wanted += "".join(f" or '{word}'" for word in also)
    bounds = _bounds_text(gt, ge, le, lt)

    def check(value: Any) -> int | float | str:
        if isinstance(value, str) and value in also:
            return value
        accepted = (int,) if integer else (int, float)
        if isinstance(value, bool) or not isinstance(value, accepted):
            raise PydanticCustomError(
                "cbamgen_type",
                "expected {wanted}, got {value}{hint}",
                {
                    "wanted": wanted,
                    "value": repr(value),
                    "hint": (
                        ""
                        if isinstance(value, (int, float))
                        else _type_hint(value, "the number")
                    ),
                },
            )
        if isinstance(value, float) and not math.isfinite(value):
            raise PydanticCustomError(
                "cbamgen_value",
                "expected a finite number, got {value}",
                {"value": repr(value)},
            )
        out_of_range = (
            (gt is not None and not value > gt)
            or (ge is not None and not value >= ge)
            or (lt is not None and not value < lt)
            or (le is not None and not value <= le)
        )
        if out_of_range:
            raise PydanticCustomError(
                "cbamgen_value",
                "{value} is out of range: must be {bounds}",
                {"value": repr(value), "bounds": bounds},
            )
        if odd and value % 2 == 0:
            raise PydanticCustomError(
                "cbamgen_value",
                "{value} is even: must be odd so 'same' padding is "
                "symmetric (try {lower} or {upper})",
                {"value": value, "lower": max(value - 1, 1), "upper": value + 1},
            )
        return value

    schema: dict[str, Any] = {"type": "integer" if integer else "number"}
    for key, bound in (
        ("exclusiveMinimum", gt),
        ("minimum", ge),
        ("maximum", le),
        ("exclusiveMaximum", lt),
    ):
        if bound is not None:
            schema[key] = bound
    if odd:
        schema["not"] = {"multipleOf": 2}
    if also:
        schema = {"anyOf": [schema, {"enum": list(also)}]}
    python_type = int if integer else int | float
    if also:
        python_type = python_type | str
    return Annotated[python_type, PlainValidator(check), WithJsonSchema(schema)]


def text(*, max_length: int = 10_000):
    """A string (never a number or null), at most ``max_length`` characters."""

    def check(value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "cbamgen_type",
                "expected text, got {value}{hint}",
                {"value": repr(value), "hint": _type_hint(value, "text")},
            )
        if len(value) > max_length:
            raise PydanticCustomError(
                "cbamgen_value",
                "text is {n} characters long; at most {max} are allowed",
                {"n": len(value), "max": max_length},
            )
        return value

    return Annotated[
        str,
        PlainValidator(check),
        WithJsonSchema({"type": "string", "maxLength": max_length}),
    ]
