"""Read a spec's YAML into plain data plus the position of every key and value.

PyYAML's ``safe_load`` forgets where things were and silently keeps the last of two equal
keys. Specs need both: errors point at file:line:col, and a duplicated key is a mistake
to report, not to resolve. So the node graph is composed and converted here by hand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from .errors import Diagnostic, KeyPath

#: A spec is a few dozen nodes; this bounds what YAML aliases can expand to.
MAX_NODES = 10_000
MAX_BYTES = 1_000_000


class _SpecLoader(yaml.SafeLoader):
    """SafeLoader that resolves plain scalars by YAML 1.2's core schema, not YAML 1.1's.

    YAML 1.1 (PyYAML's default) reads ``yes``, ``no``, ``on`` and ``off`` as booleans,
    ``2024-01-01`` as a date, ``017`` as octal and ``1:30`` as 90; a spec would then mean
    something other than what was typed (``gate: off`` became ``False``). Under the
    core schema those are text, and ``1e-6`` is a number.
    """


_CORE_SCHEMA = (
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+", "-+0123456789"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
    ("null", r"~|null|Null|NULL|", ["~", "n", "N", ""]),
)
_SpecLoader.yaml_implicit_resolvers = {}
for _kind, _pattern, _first in _CORE_SCHEMA:
    _SpecLoader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_kind}", re.compile(f"^(?:{_pattern})$"), list(_first)
    )


def _core_int(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text)  # decimal, also with leading zeros (YAML 1.1 read them as octal)


def _core_float(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node).lower()
    if text.endswith(("inf", "nan")):
        return float(text.replace(".", ""))
    return float(text)


_SpecLoader.add_constructor("tag:yaml.org,2002:int", _core_int)
_SpecLoader.add_constructor("tag:yaml.org,2002:float", _core_float)


@dataclass
class Source:
    """The data of one spec file and where each of its parts was written."""

    data: Any
    value_marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    #: Each scalar value exactly as typed (with its quotes, if it had any).
    typed: dict[KeyPath, str] = field(default_factory=dict)

    def mark(self, path: KeyPath, *, key: bool = False) -> tuple[int, int]:
        """Position of ``path`` (its key with ``key=True``), else of its nearest ancestor."""
        marks = self.key_marks if key else self.value_marks
        while path not in marks and path:
            path = path[:-1]
        return marks.get(path, (1, 1))

    def shown(self, path: KeyPath, value: Any) -> str:
        """The value at ``path`` for a message: as the user typed it, plain text in
        single quotes (``'gleu'``), quoted text and numbers as written (``"16"``,
        ``1e308``); long text is cut short."""
        typed = self.typed.get(path)
        if typed is None:
            return repr(value)
        if not typed:
            return "nothing (null)"
        if len(typed) > 60:
            typed = typed[:57] + "..."
        plain_text = isinstance(value, str) and not typed.startswith(("'", '"'))
        return f"'{typed}'" if plain_text else typed


class YamlError(Exception):
    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("; ".join(d.message for d in diagnostics))


def _position(mark: yaml.Mark | None) -> tuple[int, int]:
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


def decode(raw: bytes) -> str:
    """UTF-8 (a byte-order mark is allowed); anything else is a located error."""
    if len(raw) > MAX_BYTES:
        raise YamlError(
            [
                Diagnostic(
                    1,
                    1,
                    (),
                    f"the file is over {MAX_BYTES:,} bytes, more than a spec can "
                    "be; is this the right file?",
                )
            ]
        )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = raw[: exc.start]
        line = before.count(b"\n") + 1
        column = exc.start - (before.rfind(b"\n") + 1) + 1
        message = f"byte 0x{raw[exc.start]:02x} is not UTF-8; save the spec as UTF-8"
        raise YamlError([Diagnostic(line, column, (), message)]) from None


def parse(text: str) -> Source:
    """Parse YAML text into a :class:`Source`, raising :class:`YamlError` on bad YAML."""
    try:
        loader = _SpecLoader(text)
    except yaml.reader.ReaderError as exc:
        raise YamlError([_reader_error(text, exc)]) from None
    try:
        node = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        raise YamlError([_syntax_error(exc)]) from None
    except yaml.reader.ReaderError as exc:
        raise YamlError([_reader_error(text, exc)]) from None
    except yaml.YAMLError as exc:
        raise YamlError([Diagnostic(1, 1, (), f"YAML error: {exc}")]) from None
    except RecursionError:
        raise YamlError([Diagnostic(1, 1, (), "YAML nested too deeply")]) from None
    finally:
        loader.dispose()
    if node is None:
        raise YamlError(
            [Diagnostic(1, 1, (), "the spec is empty; start with 'cbamgen: 1'")]
        )
    builder = _Builder(loader)
    data = builder.build(node, ())
    if builder.problems:
        raise YamlError(builder.problems)
    return Source(data, builder.value_marks, builder.key_marks, builder.typed)


def _reader_error(text: str, exc: yaml.reader.ReaderError) -> Diagnostic:
    """A character YAML does not allow (NUL, most control characters), located."""
    before = text[: exc.position]
    line = before.count("\n") + 1
    column = exc.position - (before.rfind("\n") + 1) + 1
    return Diagnostic(
        line,
        column,
        (),
        f"character U+{exc.character:04X} is not allowed in YAML; "
        "remove it (write it as an escape such as \\x00 inside double quotes)",
    )


def _syntax_error(exc: yaml.MarkedYAMLError) -> Diagnostic:
    line, column = _position(exc.problem_mark or exc.context_mark)
    message = f"YAML syntax error: {exc.problem or exc.context or 'invalid YAML'}"
    if exc.context and exc.context_mark and exc.problem_mark:
        where = _position(exc.context_mark)
        message += f" ({exc.context} at line {where[0]}, column {where[1]})"
    if "'\\t'" in message:
        message += "; indent with spaces, not tabs"
    return Diagnostic(line, column, (), message)


#: The tags plain YAML data resolves to; any other (``!!python/...``, ``!custom``) is
#: refused rather than read as the mapping, list or text underneath it.
_PLAIN_TAGS = {
    f"tag:yaml.org,2002:{name}"
    for name in ("map", "seq", "str", "int", "float", "bool", "null")
}


class _Builder:
    """Turns a composed node graph into dicts, lists and scalars, recording positions."""

    def __init__(self, loader: yaml.SafeLoader):
        self.loader = loader
        self.value_marks: dict[KeyPath, tuple[int, int]] = {}
        self.key_marks: dict[KeyPath, tuple[int, int]] = {}
        self.typed: dict[KeyPath, str] = {}
        self.problems: list[Diagnostic] = []
        self.nodes = 0

    def build(self, node: yaml.Node, path: KeyPath) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise YamlError(
                [
                    Diagnostic(
                        *_position(node.start_mark),
                        path,
                        "too many YAML nodes "
                        f"(over {MAX_NODES:,}); are aliases expanding the document?",
                    )
                ]
            )
        if len(path) > 20:
            raise YamlError(
                [
                    Diagnostic(
                        *_position(node.start_mark), path, "YAML nested too deeply"
                    )
                ]
            )
        self.value_marks[path] = _position(node.start_mark)
        if node.tag not in _PLAIN_TAGS:
            self.problems.append(
                Diagnostic(
                    *_position(node.start_mark),
                    path,
                    f"the YAML tag '{node.tag}' is not allowed in a spec; write "
                    "plain values",
                )
            )
            return None
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        if isinstance(node, yaml.ScalarNode):
            self.typed[path] = node.start_mark.buffer[
                node.start_mark.index : node.end_mark.index
            ].strip()
        try:
            return self.loader.construct_object(node, deep=True)
        except yaml.YAMLError as exc:
            message = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Diagnostic(*_position(node.start_mark), path, message))
            return None

    def _key(self, node: yaml.Node) -> Any:
        if node.tag == "tag:yaml.org,2002:merge":
            return "<<"
        if not isinstance(node, yaml.ScalarNode) or node.tag not in _PLAIN_TAGS:
            return None
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError:
            return None

    def _mapping(self, node: yaml.MappingNode, path: KeyPath) -> dict[str, Any]:
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            line, column = _position(key_node.start_mark)
            key = self._key(key_node)
            if not isinstance(key, str) or key == "<<":
                shown = "a merge key '<<'" if key == "<<" else f"the key {key!r}"
                self.problems.append(
                    Diagnostic(
                        line,
                        column,
                        path,
                        f"{shown} is not supported: keys are plain names; write "
                        "the keys out in full",
                    )
                )
                continue
            child = (*path, key)
            if key in result:
                first = self.key_marks[child][0]
                self.problems.append(
                    Diagnostic(
                        line,
                        column,
                        child,
                        f"duplicate key '{key}' (first given on line {first}); "
                        "keep one of them",
                    )
                )
                continue
            self.key_marks[child] = (line, column)
            result[key] = self.build(value_node, child)
        return result
