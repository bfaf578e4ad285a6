"""``cbamgen new``: a commented starter spec showing every key with its value.

Keys that would have no effect (see :func:`cbamgen.rules.inactive`) are written commented
out, so the starter is a valid spec as it stands and each line says what it does.
"""

from __future__ import annotations

from typing import Any

import yaml
from pydantic import BaseModel

from .rules import inactive
from .spec import Spec

SCHEMA_HINT = "# yaml-language-server: $schema=cbamgen-spec.schema.json"


def class_name(module: str) -> str:
    """``my_block`` -> ``MyBlock``."""
    return "".join(part[:1].upper() + part[1:] for part in module.split("_") if part)


def _scalar(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000)
        .strip()
        .removesuffix("\n...")
        .strip()
    )


def _pools(pools: list) -> str:
    items = []
    for pool in pools:
        if pool.label() == pool.kind and pool.window is None:
            items.append(pool.kind)
        else:
            items.append(
                {
                    "type": pool.kind,
                    **pool.settings(),
                    **({"window": pool.window} if pool.window else {}),
                }
            )
    return _scalar(items)


def _line(indent: str, key: str, value: str, note: str | None, off: bool) -> str:
    text = f"{indent}{'# ' if off else ''}{key}: {value}".rstrip()
    return f"{text}  # {note}" if note else text


def _section(model: BaseModel, path: tuple, off_keys: dict, indent: str) -> list[str]:
    lines = []
    for key, info in type(model).model_fields.items():
        value = getattr(model, key)
        note = info.description
        off = (*path, key) in off_keys
        if key == "pools":
            lines.append(_line(indent, key, _pools(value), note, off))
        elif value is None:
            lines.append(_line(indent, key, "", note, True))
        elif isinstance(value, BaseModel):
            lines.append(_line(indent, key, "", note, off))
            lines += _section(value, (*path, key), off_keys, indent + "  ")
        else:
            lines.append(_line(indent, key, _scalar(value), note, off))
    return lines


def starter(module: str, like: Spec | None = None) -> str:
    """The text of ``specs/<module>.yaml``: ``like``'s settings, or CBAM's defaults."""
    base = like or Spec.model_validate(
        {"cbamgen": 1, "name": "Block", "channel": {}, "spatial": {}}
    )
    spec = base.model_copy(update={"name": class_name(module)})
    lines = [
        SCHEMA_HINT,
        f"# {spec.name}: an attention block for cbamgen. Every key is shown with its",
        "# value; keys that would have no effect here are commented out. The language:",
        "# docs/spec.md; the pools: 'cbamgen pools'. Then run:",
        f"#   cbamgen render specs/{module}.yaml",
    ]
    lines += _section(spec, (), inactive(spec), "")
    if spec.gamma is None:
        lines[-1] = lines[-1].replace("# gamma:", "# gamma: {mode: blend, init: 0.0}")
    return "\n".join(lines) + "\n"
