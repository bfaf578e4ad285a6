"""Spec file -> :class:`Spec`, or a :class:`SpecError` listing every located problem.

Every problem of a file comes in one run: the typed models report what is malformed;
the invalid parts are then set aside (a key dropped so its default applies, a bad pool
replaced by a placeholder) and the cross-key rules run on the rest, each finding kept
only if the keys whose values it read were valid. Rules about a key's presence (it has
no effect here) still hold when its value is also wrong: both are reported.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from . import rules
from .catalogue import POOLS, suggest_pool
from .errors import Diagnostic, KeyPath, SpecError, did_you_mean, one_of
from .spec import ChannelBranch, Gamma, SpatialBranch, Spec
from .yamlsource import MAX_BYTES, Source, YamlError, decode, parse

_SECTIONS: dict[str, type[BaseModel]] = {
    "channel": ChannelBranch,
    "spatial": SpatialBranch,
    "gamma": Gamma,
}
SPEC_SUFFIXES = (".yaml", ".yml")
#: Stand-ins for invalid required values, so that the rest can still be checked.
_PLACEHOLDERS = {("cbamgen",): 1, ("name",): "Spec"}


def load_spec(path: str | Path, *, display_name: str | None = None) -> Spec:
    """Read and validate a spec file; errors name ``display_name`` (default: ``path``)."""
    name = display_name or str(path)
    if Path(path).suffix.lower() not in SPEC_SUFFIXES:
        raise SpecError(name, [Diagnostic(1, 1, (), _not_a_spec(Path(path)))])
    try:
        with open(path, "rb") as stream:
            # Read one byte past the limit: a huge file is refused without loading it.
            raw = stream.read(MAX_BYTES + 1)
    except OSError as exc:
        raise SpecError(
            name, [Diagnostic(1, 1, (), f"cannot read the spec: {exc.strerror}")]
        ) from None
    return load_spec_bytes(raw, name)


def _not_a_spec(path: Path) -> str:
    message = "not a spec: cbamgen reads YAML specs, files ending in .yaml"
    if path.suffix == ".py":
        message += (
            f"; a generated layer is rendered from its spec, e.g. "
            f"specs/{path.stem}.yaml (its first line names it)"
        )
    return message


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
    problems: list[Diagnostic] = []
    invalid: set[KeyPath] = set()
    data = source.data
    for _ in range(3):  # setting a part aside can expose an error beneath it, rarely
        try:
            spec = Spec.model_validate(data)
            break
        except ValidationError as exc:
            data = copy.deepcopy(data)
            for error in exc.errors():
                part, problem = _translate(error, source)
                problems.append(problem)
                invalid.add(part)
                _set_aside(data, part)
    else:
        raise SpecError(filename, problems)
    for problem in rules.check(spec, source.data):
        if not any(_rejected(read, invalid) for read in problem.reads):
            where = source.mark(problem.path, key=problem.at_key)
            problems.append(Diagnostic(*where, problem.path, problem.message))
    if problems:
        raise SpecError(filename, problems)
    return spec


def _rejected(read: KeyPath, invalid: set[KeyPath]) -> bool:
    """Whether the key a rule read is, or lies within, a rejected part (a rejected key
    inside a branch leaves the branch's presence known)."""
    return any(read[: len(bad)] == bad for bad in invalid)


def _set_aside(data: dict, path: KeyPath) -> None:
    """Take an invalid part out of ``data`` so the rest validates: a key is dropped (its
    default applies), a pool becomes a placeholder, a required value a stand-in."""
    if path == ("gamma", "mode"):
        data.pop("gamma", None)
        return
    if path in _PLACEHOLDERS:
        data[path[0]] = _PLACEHOLDERS[path]
        return
    parent: Any = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return  # already set aside with an enclosing part
    if isinstance(parent, list):
        parent[path[-1]] = {"type": "avg"}
    elif isinstance(parent, dict) and path:
        parent.pop(path[-1], None)


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
        if isinstance(data, dict) and data.get("type") == part:
            continue  # the tag of a pool's union member
        if isinstance(data, dict) and part in data:
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data):
            data = data[part]
        else:
            continue
        path.append(part)
    return tuple(path), data


def _allowed_keys(source: Source, path: KeyPath) -> list[str]:
    """The keys a mapping at ``path`` may hold (for did-you-mean on an unknown key)."""
    parent = path[:-1]
    if len(parent) == 0:
        return list(Spec.model_fields)
    if len(parent) == 1 and parent[0] in _SECTIONS:
        return list(_SECTIONS[parent[0]].model_fields)
    pool = source.data
    for part in parent:
        pool = pool[part]
    cls = POOLS.get(pool.get("type")) if isinstance(pool, dict) else None
    if cls is None:
        return []
    # 'type' first and 'window' last, as the docs list them.
    return [
        "type",
        *(k for k in cls.model_fields if k not in ("type", "window")),
        "window",
    ]


def _known_elsewhere(key: str, path: KeyPath) -> str | None:
    """Where ``key`` belongs when it is a key of the language, but not at ``path``."""
    if key in Spec.model_fields and len(path) > 1:
        return f"it is a top-level key; move it out of '{path[0]}' (no indentation)"
    sections = [name for name, cls in _SECTIONS.items() if key in cls.model_fields]
    if sections:
        where = " and ".join(f"'{name}'" for name in sections)
        return f"it is a key of {where}; move it into the section it is for"
    pools = [name for name, cls in POOLS.items() if key in cls.model_fields]
    if pools and key != "type":
        example = f"{{type: {pools[0]}, {key}: ...}}"
        owners = (
            "every pool"
            if len(pools) == len(POOLS)
            else f"the pools {', '.join(pools)}"
        )
        return f"it is a parameter of {owners}; write the pool as a mapping, e.g. {example}"
    return None


_VALUE_HINTS = {
    ("fusion", "parallel"): (
        "; the branches side by side, both on x, are fusion 'add' "
        "(y = C(x) + S(x)), 'mean' (their average) or 'multiply' (their product)"
    ),
}


_MISSING_HINTS = {
    "cbamgen": "; add 'cbamgen: 1' (the spec format version)",
    "name": "; add e.g. 'name: MyAttention' (the generated class name)",
    "mode": "; add 'mode: blend', 'mode: residual' or 'mode: none'",
}


def _translate(error: dict, source: Source) -> tuple[KeyPath, Diagnostic]:
    """A pydantic error as a located message quoting what the user typed, and the path
    of the part that is invalid (for a missing key: that key)."""
    kind = error["type"]
    path, value = _data_path(error["loc"], source.data)
    part = path
    shown = source.shown(path, value)
    ctx = error.get("ctx") or {}
    at_key = False
    if kind == "extra_forbidden":
        key = path[-1]
        allowed = _allowed_keys(source, path)
        message = f"unknown key '{key}'{did_you_mean(key, allowed)}"
        elsewhere = _known_elsewhere(key, path) if isinstance(key, str) else None
        if elsewhere:
            message = f"'{key}' is not a key here: {elsewhere}"
        if allowed:
            message += f"; allowed here: {', '.join(allowed)}"
        at_key = True
    elif kind == "missing":
        missing = error["loc"][-1]
        message = f"missing required key '{missing}'{_MISSING_HINTS.get(missing, '')}"
        part = (*path, missing)
    elif kind == "unknown_pool":
        if isinstance(value, dict) and "type" in value:
            path = (*path, "type")
            shown = source.shown(path, value["type"])
        message = _pool_message(value, shown)
    elif kind == "literal_error":
        choices = re.findall(r"'([^']*)'", ctx.get("expected", ""))
        message = (
            f"{shown} is not allowed{did_you_mean(value, choices)}; "
            f"expected {one_of(choices)}"
        )
        if isinstance(value, str):
            message += _VALUE_HINTS.get((path[-1] if path else None, value), "")
    elif kind in ("model_type", "model_attributes_type", "dict_type"):
        message = f"expected a mapping of keys, got {_kind(value)} {shown}"
    elif kind == "list_type":
        message = f"expected a list (e.g. '[avg, max]'), got {_kind(value)} {shown}"
    elif kind == "too_short":
        message = "the list is empty; give at least one pool, e.g. '[avg, max]'"
    elif kind == "too_long":
        message = f"too many items (at most {ctx.get('max_length')})"
    elif kind in ("bool_type", "bool_parsing"):
        message = f"expected true or false, got {shown}{_bool_hint(value, source.typed.get(path, ''))}"
    elif kind == "value_error":
        message = str(ctx.get("error", error["msg"]))
    else:
        message = error["msg"]
    if "value" in ctx and kind != "value_error":
        # The field validators show Python's repr; the user wants their own text.
        message = message.replace(str(ctx["value"]), shown, 1)
    return part, Diagnostic(*source.mark(path, key=at_key), path, message)


_YAML11_BOOLEANS = {
    "yes": "true",
    "on": "true",
    "y": "true",
    "no": "false",
    "off": "false",
    "n": "false",
}


def _bool_hint(value: Any, typed: str) -> str:
    """Why a value that looks boolean is not, and what to write."""
    if not isinstance(value, str):
        return ""
    if value.lower() in _YAML11_BOOLEANS and not typed.startswith(("'", '"')):
        meant = _YAML11_BOOLEANS[value.lower()]
        return f" (specs are YAML 1.2, where {typed} is text); write {meant}"
    return " (text); write true or false without quotes"


def _pool_message(value: Any, shown: str) -> str:
    choices = list(POOLS)
    if isinstance(value, dict) and "type" not in value:
        return f"a pool mapping needs a 'type' key; pools: {', '.join(choices)}"
    name = value.get("type") if isinstance(value, dict) else value
    if not isinstance(name, str):
        return (
            f"a pool is a name or a mapping with 'type', got {_kind(name)} {shown}; "
            f"pools: {', '.join(choices)}"
        )
    suggestion = suggest_pool(name)
    hint = (
        f" (did you mean {suggestion}?)" if suggestion else did_you_mean(name, choices)
    )
    return f"unknown pool {shown}{hint}; pools: {', '.join(choices)}"
