"""What every entry of the catalogue is: a named part of the spec language.

A part owns the spec keys it reads (:mod:`.keys`), the rules that relate them, its
formula for docstrings and listings, what it contributes to the plan (arguments,
weights, helpers: data, never code), and the template macro that prints it. Its NumPy
reference function lives in :mod:`cbamgen.reference` under the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import BaseModel, Field, create_model

from ..errors import KeyPath
from ..fields import STRICT

if TYPE_CHECKING:
    from .keys import Key


@dataclass(frozen=True)
class Problem:
    """A rule broken at ``path``; ``reads`` are the other keys the rule looked at."""

    path: KeyPath
    message: str
    at_key: bool = False  # point at the key itself, not at its value
    reads: tuple[KeyPath, ...] = ()


class Part:
    """Base of every catalogue entry; subclasses set the class attributes."""

    #: The name a spec writes (``mlp``, ``sequential``, ``sigmoid``).
    name: ClassVar[str]
    title: ClassVar[str] = ""
    #: What it computes, for docs/spec.md and docstrings.
    formula: ClassVar[str] = ""
    citation: ClassVar[str] = ""
    #: The papers a generated docstring cites for it.
    references: ClassVar[tuple[str, ...]] = ()
    #: A few words for listings and the spec's key descriptions.
    summary: ClassVar[str] = ""
    #: The template that prints it, under templates/, and its macro there.
    template: ClassVar[str] = ""
    #: The branch keys it reads besides its branch's own (see :mod:`.keys`).
    keys: ClassVar[dict[str, Key]] = {}
    #: For keys other parts of its group read: why they have no effect here, when a
    #: better reason than the general one exists.
    refuses: ClassVar[dict[str, str]] = {}

    def inactive(self, branch: Any, name: str) -> Iterator[Problem]:
        """Keys it reads that have no effect in branch ``name`` as set, with why."""
        return iter(())

    def rules(self, branch: Any, name: str) -> Iterator[Problem]:
        """Its other cross-key rules within branch ``name``."""
        return iter(())

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


#: Papers cited by several parts: the docstrings cite these first, in this order.
CBAM = "Woo et al. 2018, CBAM, arXiv:1807.06521"
SE = "Hu et al. 2018, Squeeze-and-Excitation, arXiv:1709.01507"
ECA = "Wang et al. 2020, ECA-Net, arXiv:1910.03151"
GCNET = "Cao et al. 2019, GCNet, arXiv:1904.11492"
FIRST = (CBAM, SE, ECA)


def registry(*parts: Part) -> dict[str, Part]:
    """Parts by name, in the order given (the order docs and listings show)."""
    return {part.name: part for part in parts}


def choice(group: dict[str, Part]) -> Any:
    """The type of a key that names one part of ``group``."""
    return Literal[tuple(group)]


def one_or_list(words: Iterable[str]) -> str:
    """``a``, ``a or b``, ``a, b or c``."""
    words = list(words)
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def inactive_keys(
    group: dict[str, Part], chosen: str, branch: str, selector: str
) -> Iterator[Problem]:
    """The keys read by other parts of ``group`` but not by the ``chosen`` one: each
    has no effect in branch ``branch``, where ``selector`` chose the part."""
    part = group[chosen]
    for key in owned_keys(group):
        if key in part.keys:
            continue
        users = [name for name, other in group.items() if key in other.keys]
        message = part.refuses.get(key) or (
            f"'{key}' only applies to {selector}: {one_or_list(users)} (this branch "
            f"uses {selector}: {chosen}); remove it"
        )
        yield Problem((branch, key), message, reads=((branch, selector),))


def owned_keys(group: dict[str, Part]) -> dict[str, Key]:
    """Every key the parts of ``group`` read, each once, in first-seen order."""
    keys: dict[str, Key] = {}
    for part in group.values():
        for key, value in part.keys.items():
            keys.setdefault(key, value)
    return keys


def described(key: str, value: Key, group: dict[str, Part]) -> str:
    """A shared key's description, prefixed with the parts that read it."""
    users = [name for name, part in group.items() if key in part.keys]
    return f"{', '.join(users)}: {value.description}" if users else value.description


def model(name: str, doc: str, fields: dict[str, tuple[Any, Any]]) -> type[BaseModel]:
    """A strict spec model named ``name`` with ``fields`` in order (key -> (type,
    pydantic Field))."""
    return create_model(name, __config__=STRICT, __doc__=doc, **fields)


def field(key: Key, description: str | None = None) -> tuple[Any, Any]:
    return (
        key.annotation,
        Field(key.default, description=description or key.description),
    )
