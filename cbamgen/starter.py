"""``cbamgen new``: a commented starter spec showing every key with its value.

Keys that would have no effect (see :func:`cbamgen.rules.inactive`) are written commented
out, so the starter is a valid spec as it stands and each line says what it does.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from .rules import inactive
from .spec import Spec

SCHEMA_FILE = "cbamgen-spec.schema.json"
SCHEMA_HINT = f"# yaml-language-server: $schema={SCHEMA_FILE}"
_CAPWORDS = re.compile(r"[A-Z][A-Za-z0-9]*\Z")
#: The starter without --like: CBAM as in the paper (Woo et al. 2018), as
#: specs/cbam.yaml writes it; the language's own defaults differ (biases on, spatial
#: pools [max, avg] as in the authors' code).
CBAM_AS_IN_THE_PAPER = {
    "cbamgen": 1,
    "name": "Block",
    "channel": {"pools": ["avg", "max"], "bias": False},
    "spatial": {"pools": ["avg", "max"], "bias": False},
}


def class_name(module: str) -> str:
    """``my_block`` -> ``MyBlock``."""
    return "".join(part[:1].upper() + part[1:] for part in module.split("_") if part)


def module_name(class_: str) -> str:
    """``EcaGemSoft`` -> ``eca_gem_soft``, ``L2CBAM`` -> ``l2_cbam``."""
    return re.sub(
        r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", class_
    ).lower()


def names(name: str) -> tuple[str, str]:
    """(module, class) for ``cbamgen new NAME``: NAME is either, the other is derived."""
    if _CAPWORDS.match(name):
        return module_name(name), name
    if name.isidentifier() and name == name.lower():
        return name, class_name(name)
    raise ValueError(
        f"'{name}' is neither a module name (lower case, digits, underscores: "
        "my_block) nor a class name (CapWords: MyBlock)"
    )


def _scalar(value: Any) -> str:
    return (
        yaml.safe_dump(value, default_flow_style=True, width=1000, sort_keys=False)
        .strip()
        .removesuffix("\n...")
        .strip()
    )


def _shown_path(path: Path | None) -> str:
    """``path`` relative to the working folder when it is inside it, as written
    otherwise: the description should not carry a machine's absolute paths."""
    if path is None:
        return ""
    try:
        return Path(path).resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return Path(path).as_posix()


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


def starter(
    name: str, shown: str, like: Spec | None = None, like_path: Path | None = None
) -> str:
    """The text of the spec ``shown``, class ``name``: ``like``'s settings (its own
    description replaced by a placeholder), or CBAM as in the paper (the settings of
    specs/cbam.yaml)."""
    base = like or Spec.model_validate(CBAM_AS_IN_THE_PAPER)
    update: dict[str, Any] = {"name": name}
    if like is not None:
        update["description"] = (
            f"Started from {_shown_path(like_path)}: say what this block "
            "changes, and why."
        )
    spec = base.model_copy(update=update)
    lines = [
        SCHEMA_HINT,
        f"# {spec.name}: an attention block for cbamgen. Every key is shown with its",
        "# value; keys that would have no effect here are commented out. The language:",
        "# docs/spec.md; the pools: 'cbamgen pools'; the other parts: 'cbamgen blocks'.",
        "# Then run:",
        f"#   cbamgen render {shown}",
    ]
    if like is None:
        lines += [
            "# It starts as CBAM as in the paper (Woo et al. 2018, specs/cbam.yaml): no",
            "# biases, spatial pools [avg, max].",
        ]
    lines += _section(spec, (), inactive(spec), "")
    if spec.gamma is None:
        lines[-1] = lines[-1].replace("# gamma:", "# gamma: {mode: blend, init: 0.0}")
    return "\n".join(lines) + "\n"
