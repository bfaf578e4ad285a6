"""User-facing errors: every problem in a spec is a located, actionable diagnostic."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

KeyPath = tuple[str | int, ...]


def printable(text: str) -> str:
    """``text`` with every character a terminal would not show as text escaped (``\\n``,
    ``\\x00``, ``\\u2028`` ...), so it stays on one line and shows what it holds."""
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape").decode("ascii")
        for c in text
    )


def format_path(path: KeyPath) -> str:
    """``("channel", "pools", 1)`` -> ``channel.pools[1]``; the root is ``(root)``."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(root)"


def _folded(word: str) -> str:
    return word.lower().replace("-", "_").replace(" ", "_")


def did_you_mean(word: object, choices: Iterable[str]) -> str:
    """A ``" (did you mean 'x'?)"`` suffix, or ``""`` when nothing is close. Case and
    dashes do not count (``MLP``, ``Hard-Sigmoid``)."""
    if not isinstance(word, str):
        return ""
    by_fold = {_folded(choice): choice for choice in choices}
    close = difflib.get_close_matches(_folded(word), list(by_fold), n=1, cutoff=0.6)
    return f" (did you mean '{by_fold[close[0]]}'?)" if close else ""


def one_of(choices: Iterable[object]) -> str:
    return ", ".join(repr(c) if isinstance(c, str) else str(c) for c in choices)


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem: where it is (line and column are 1-based) and what to do about it."""

    line: int
    column: int
    path: KeyPath
    message: str

    def format(self, filename: str) -> str:
        """One line, always: characters a terminal would not show as text are escaped."""
        return printable(
            f"{filename}:{self.line}:{self.column}: {format_path(self.path)}: {self.message}"
        )


class SpecError(Exception):
    """A spec file that cannot be rendered; carries every diagnostic found in it."""

    def __init__(self, filename: str, diagnostics: Sequence[Diagnostic]):
        self.filename = filename
        self.diagnostics = sorted(
            set(diagnostics), key=lambda d: (d.line, d.column, d.message)
        )
        super().__init__(self.report())

    def report(self) -> str:
        return "\n".join(d.format(self.filename) for d in self.diagnostics)
