"""The pool catalogue as text (``cbamgen pools``) and as the table in docs/spec.md."""

from __future__ import annotations

from typing import Any

from .catalogue import POOLS, Pool


def _bounds(schema: dict[str, Any]) -> str:
    if "anyOf" in schema:
        return " or ".join(_bounds(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if schema.get("type") == "boolean":
        return "true | false"
    parts = []
    for key, sign in (
        ("exclusiveMinimum", ">"),
        ("minimum", ">="),
        ("exclusiveMaximum", "<"),
        ("maximum", "<="),
    ):
        if key in schema:
            parts.append(f"{sign} {schema[key]}")
    kind = "odd integer" if "not" in schema else schema.get("type", "")
    return f"{kind} {', '.join(parts)}".strip()


def parameters(cls: type[Pool]) -> list[tuple[str, str, str]]:
    """(name, allowed values, default) for each parameter of a pool, ``window`` last."""
    schema = cls.model_json_schema()
    rows = []
    for name, field in cls.model_fields.items():
        if name in ("type", "window"):
            continue
        prop = schema["properties"][name]
        default = field.default
        shown = str(default).lower() if isinstance(default, bool) else str(default)
        rows.append((name, _bounds(prop), shown))
    return rows


def text() -> str:
    """A plain-text listing of every pool, for the terminal."""
    lines = []
    for kind, cls in POOLS.items():
        lines.append(f"{kind} — {cls.title}")
        lines.append(f"    value:     {cls.formula}")
        if cls.training != Pool.training:
            lines.append(f"    training:  {cls.training}")
        for name, allowed, default in parameters(cls):
            lines.append(f"    {name}: {allowed} (default {default})")
        if cls.citation:
            lines.append(f"    source:    {cls.citation}")
        lines.append("")
    lines.append(
        "Every pool also takes 'window: k' (odd, spatial branch only): it then pools"
    )
    lines.append(
        "each channel over each pixel's k x k neighbourhood, stride 1, 'same' size."
    )
    return "\n".join(lines) + "\n"


def markdown() -> str:
    """The pool table of docs/spec.md."""
    rows = [
        "| pool | value over a region x_1 … x_n | parameters (default) | training | source |",
        "|---|---|---|---|---|",
    ]
    for kind, cls in POOLS.items():
        params = "; ".join(f"`{n}`: {a} ({d})" for n, a, d in parameters(cls)) or "—"
        training = cls.training if cls.training != Pool.training else "as inference"
        cells = [f"`{kind}`", cls.formula, params, training, cls.citation or "—"]
        rows.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(rows) + "\n"
