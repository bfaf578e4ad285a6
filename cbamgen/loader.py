"""Spec file -> :class:`Spec`, or a :class:`SpecError` listing every located problem."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import rules
from .catalogue import POOLS
from .errors import Diagnostic, KeyPath, SpecError, did_you_mean, one_of
from .spec import ChannelBranch, Gamma, SpatialBranch, Spec
from .yamlsource import MAX_BYTES, Source, YamlError, decode, parse

_SECTIONS: dict[str, type[BaseModel]] = {
    "channel": ChannelBranch,
    "spatial": SpatialBranch,
    "gamma": Gamma,
}


def load_spec(path: str | Path, *, display_name: str | None = None) -> Spec:
    """Read and validate a spec file; errors name ``display_name`` (default: ``path``)."""
    name = display_name or str(path)
    try:
        with open(path, "rb") as stream:
            # Read one byte past the limit: a huge file is refused without loading it.
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(
            name, [Diagnostic(1, 1, (), f"cannot read the spec: {exc.strerror}")]
        ) from None
    return load_spec_bytes(raw, name)


def load_spec_bytes(raw: bytes, filename: str) -> Spec:
    try:
        source = parse(decode(raw))
    except YamlError as exc:
        raise SpecError(filename, exc.diagnostics) from None
    return validate(source, filename)


def validate(source: Source, filename: str) -> Spec:
    if not isinstance(source.data, dict):
        message = (
            f"the spec must be a mapping of keys (cbamgen, name, channel, ...), "
            f"not {_kind(source.data)}"
        )
        raise SpecError(filename, [Diagnostic(*source.mark(()), (), message)])
    try:
        spec = Spec.model_validate(source.data)
    except ValidationError as exc:
        problems = [_translate(error, source) for error in exc.errors()]
        raise SpecError(filename, problems) from None
    problems = [
        Diagnostic(*source.mark(path, key=at_key), path, message)
        for path, message, at_key in rules.check(spec, source.data)
    ]
    if problems:
        raise SpecError(filename, problems)
    return spec


def _kind(value: Any) -> str:
    names = {
        dict: "a mapping",
        list: "a list",
        str: "text",
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        type(None): "null",
    }
    return names.get(type(value), type(value).__name__)


def _data_path(loc: tuple, data: Any) -> tuple[KeyPath, Any]:
    """Follow pydantic's ``loc`` through the data, skipping union tags and validator names."""
    path: list[str | int] = []
    for part in loc:
        if isinstance(data, dict) and _pool_tag(data) == part:
            continue
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        elif isinstance(data, str) and isinstance(part, int):
            continue
        else:
            continue
        path.append(part)
    return tuple(path), data


def _pool_tag(data: dict) -> Any:
    return data.get("type")


def _allowed_keys(path: KeyPath) -> list[str]:
    """The keys a mapping at ``path`` may hold (for did-you-mean on an unknown key)."""
    parent = path[:-1]
    if len(parent) == 0:
        return list(Spec.model_fields)
    if len(parent) == 1 and parent[0] in _SECTIONS:
        return list(_SECTIONS[parent[0]].model_fields)
    return []


def _pool_keys(source: Source, path: KeyPath) -> list[str]:
    pool = source.data
    for part in path[:-1]:
        pool = pool[part]
    cls = POOLS.get(_pool_tag(pool)) if isinstance(pool, dict) else None
    # 'type' first and 'window' last, as the docs list them.
    keys = [k for k in cls.model_fields if k not in ("type", "window")] if cls else []
    return ["type", *keys, "window"] if cls else []


def _translate(error: dict, source: Source) -> Diagnostic:
    kind = error["type"]
    path, value = _data_path(error["loc"], source.data)
    ctx = error.get("ctx") or {}
    at_key = False
    if kind == "extra_forbidden":
        key = path[-1]
        allowed = _allowed_keys(path) or _pool_keys(source, path)
        message = f"unknown key '{key}'{did_you_mean(key, allowed)}"
        if allowed:
            message += f"; allowed here: {', '.join(allowed)}"
        at_key = True
    elif kind == "missing":
        missing = error["loc"][-1]
        message = f"missing required key '{missing}'"
        if missing == "cbamgen":
            message += "; add 'cbamgen: 1' (the spec format version)"
        elif missing == "name":
            message += "; add e.g. 'name: MyAttention' (the generated class name)"
        elif missing == "mode":
            message += "; add 'mode: blend', 'mode: residual' or 'mode: none'"
    elif kind == "unknown_pool":
        message = _pool_message(value, path)
        if isinstance(value, dict) and "type" in value:
            path = (*path, "type")
    elif kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        message = (
            f"{value!r} is not allowed{did_you_mean(value, choices)}; "
            f"expected {one_of(choices)}"
        )
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected a mapping of keys, got {_kind(value)} {value!r}"
    elif kind == "list_type":
        message = f"expected a list (e.g. '[avg, max]'), got {_kind(value)} {value!r}"
    elif kind == "too_short":
        message = "the list is empty; give at least one pool, e.g. '[avg, max]'"
    elif kind == "too_long":
        message = f"too many items (at most {ctx.get('max_length')})"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"expected true or false, got {_kind(value)} {value!r}"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = error["msg"]
    return Diagnostic(*source.mark(path, key=at_key), path, message)


def _pool_message(value: Any, path: KeyPath) -> str:
    choices = list(POOLS)
    if isinstance(value, dict) and "type" not in value:
        return f"a pool mapping needs a 'type' key; pools: {', '.join(choices)}"
    name = value.get("type") if isinstance(value, dict) else value
    if not isinstance(name, str):
        return (
            f"a pool is a name or a mapping with 'type', got {_kind(name)} {name!r}; "
            f"pools: {', '.join(choices)}"
        )
    return f"unknown pool {name!r}{did_you_mean(name, choices)}; pools: {', '.join(choices)}"
