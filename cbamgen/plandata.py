"""The plan's data: what the templates print, as values, never as code.

Catalogue entries contribute these as they are planned (:mod:`cbamgen.plan`); the
templates turn them into Python, and the docstrings (:mod:`cbamgen.docs`) into text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .catalogue.pools import Pool, Region


@dataclass(frozen=True)
class Arg:
    """A constructor argument: stored as ``self.<name>``, returned by ``get_config``,
    its default ``value``. ``doc`` is None for an argument documented with the one
    before it."""

    name: str
    value: Any
    doc: str | None


@dataclass(frozen=True)
class Weight:
    """One row of the docstring's weights table."""

    name: str
    shape: str


@dataclass(frozen=True)
class Helper:
    """A function the generated file defines below the class: ``macro`` in
    ``template`` prints it. Pool helpers carry their pool and region."""

    template: str
    macro: str
    name: str
    pool: Pool | None = None
    region: Region | None = None
    needs_math: bool = False
    options: dict = field(default_factory=dict)  # what else the macro prints by


@dataclass(frozen=True)
class PoolParam:
    """A numeric parameter passed to a pool's helper: read from ``self.<attribute>``,
    through a sigmoid when the weight is a logit."""

    name: str
    attribute: str
    logit: bool = False


@dataclass(frozen=True)
class PoolWeight:
    """A learnable pool parameter (gem's p, mixed's alpha), created with add_weight."""

    attribute: str
    init_arg: str
    logit: bool  # stored as a logit: the parameter is sigmoid(weight)


@dataclass(frozen=True)
class PoolLayer:
    """A Keras layer a pool owns (attention pooling's scores): ``Dense(units)`` named
    ``name``, built on ``(None, channels)``."""

    name: str
    units: int


@dataclass(frozen=True)
class PoolCall:
    """One pool applied to ``features`` in a gate method.

    ``function`` is the helper's name, or None for a pool printed inline: ``inline``
    names the op (``mean``, ``max``; over windows or extents the ``_window_<op>`` /
    ``_extent_<op>`` helper; ``none`` is the features themselves). The region is
    given by ``axis`` (an int or a tuple of ints) or by ``size``, the attribute that
    holds the window or the extent."""

    function: str | None
    inline: str | None
    region: Region
    axis: Any = None
    size: str | None = None
    params: tuple[PoolParam, ...] = ()
    layer: str | None = None  # an owned layer the helper is given (attention's scores)
    seeded: bool = False

    @property
    def keeps_channels(self) -> bool:
        """Whether it gives C maps (a window pool, or no pooling) rather than one."""
        return self.region.window or self.inline == "none"


@dataclass(frozen=True)
class Width:
    """How build() computes an excitation's hidden width from ``channels``: from the
    argument ``hidden`` when explicit, else by the rule of the arguments ``reduction``,
    ``divisor``, ``min_hidden`` (and ``round_limit`` when ``limited``)."""

    explicit: bool
    variable: str = "hidden"  # build()'s local that holds it
    nearest: bool = False
    limited: bool = False
    hidden: str = "hidden_units"
    reduction: str = "reduction"
    divisor: str = "divisor"
    min_hidden: str = "min_hidden"
    round_limit: str = "round_limit"


@dataclass
class Contributions:
    """What planned parts add to the layer as they are planned: constructor arguments
    (in order), helpers, weights (the docstring's table) and whether a part needs the
    ``training`` flag."""

    args: list[Arg] = field(default_factory=list)
    helpers: list[Helper] = field(default_factory=list)
    weights: list[Weight] = field(default_factory=list)
    calls: set[str] = field(default_factory=set)  # shared helpers called

    def arg(self, name: str, value: Any, doc: str | None = None) -> str:
        self.args.append(Arg(name, value, doc))
        return name

    def weight(self, name: str, shape: str) -> None:
        self.weights.append(Weight(name, shape))
