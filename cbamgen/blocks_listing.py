"""The rest of the catalogue as text (``cbamgen blocks``) and as the tables in
docs/spec.md: the branch kinds with their keys and excitations, the fusions, the gamma
modes, the gates and the activations."""

from __future__ import annotations

from typing import Any

from .catalogue import ACTIVATIONS, BRANCHES, FUSIONS, GAMMAS, GATES
from .listing import _bounds


def _default(value: Any) -> str:
    if value is None:
        return "—"
    return str(value).lower() if isinstance(value, bool) else str(value)


def branch_keys(kind: str) -> list[tuple[str, str, str, str]]:
    """(key, allowed values, default, what it does) for each key of a branch kind."""
    model = BRANCHES[kind].model
    schema = model.model_json_schema()
    rows = []
    for name, field in model.model_fields.items():
        if name == "pools":
            most = schema["properties"][name].get("maxItems")
            allowed = "list of one pool" if most == 1 else "list of pools"
            default = "[" + ", ".join(p["type"] for p in field.default_factory()) + "]"
        else:
            allowed = _bounds(schema["properties"][name])
            default = _default(field.default)
        rows.append((name, allowed or "number", default, field.description or ""))
    return rows


def text() -> str:
    lines = []
    for kind, branch in BRANCHES.items():
        lines.append(f"{kind} — {branch.model.__doc__.strip()}")
        for name, part in branch.excitations.items():
            lines.append(f"    excite: {name} — {part.formula}")
        for key, allowed, default, _ in branch_keys(kind):
            lines.append(f"    {key}: {allowed} (default {default})")
        lines.append("")
    lines.append("fusions (channel and spatial together):")
    lines += [f"    {name}: {part.formula}" for name, part in FUSIONS.items()]
    lines.append("gamma modes:")
    lines += [f"    {name}: out = {part.formula}" for name, part in GAMMAS.items()]
    lines.append("gates: " + ", ".join(f"{n} ({p.formula})" for n, p in GATES.items()))
    lines.append(
        "activations: "
        + ", ".join(f"{n} ({p.formula})" for n, p in ACTIVATIONS.items())
    )
    return "\n".join(lines) + "\n"


def _row(cells: list[str]) -> str:
    return "| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |"


def markdown() -> str:
    """The excitation and fusion tables of docs/spec.md."""
    rows = [
        "| branch | excite | computes | keys it reads | source |",
        "|---|---|---|---|---|",
    ]
    for kind, branch in BRANCHES.items():
        for name, part in branch.excitations.items():
            keys = ", ".join(f"`{k}`" for k in part.keys) or "—"
            rows.append(
                _row([kind, f"`{name}`", part.formula, keys, part.citation or "—"])
            )
    rows += ["", "| fusion | output | source |", "|---|---|---|"]
    for name, part in FUSIONS.items():
        rows.append(_row([f"`{name}`", part.formula, part.citation or "—"]))
    return "\n".join(rows) + "\n"
