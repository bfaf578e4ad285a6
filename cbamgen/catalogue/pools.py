"""The pools: which exist, what they compute, over which regions.

Each pool owns its behaviour: its parameters (the pydantic fields, which the validator
checks), its learnable weights, whether it needs random numbers, the regions it can
reduce, the template that prints its helper, the name of that helper, and its formula,
citation and aliases for docstrings, listings and suggestions. The planner, the
validator, the docs and ``verify`` read them from here. Adding a pool means: a class
here, its template in ``templates/pools/``, a function in
:mod:`cbamgen.reference.pools`; the tests pick it up from :data:`POOLS`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import BaseModel, BeforeValidator, Discriminator, Tag

from ..fields import STRICT, number

#: The regions a pool can reduce, set by the branch it sits in and its ``window``:
#: ``map`` (each channel's H x W map), ``across`` (the channels at a pixel), ``strip``
#: (each channel along one spatial axis: a coordinate branch's rows or columns),
#: ``window`` (each channel over each pixel's k x k neighbourhood, stride 1) and
#: ``extent`` (each channel over windows of 2e - 1 cells, stride e: gather-excite).
REGIONS = ("map", "across", "strip", "window", "extent")
#: Regions given by an ``axis`` argument; the others by their size.
AXIS_REGIONS = ("map", "across", "strip")


@dataclass(frozen=True)
class Region:
    """What a pool reduces (one of :data:`REGIONS`), as the templates see it."""

    kind: str

    @property
    def window(self) -> bool:
        return self.kind == "window"

    @property
    def argument(self) -> str:
        """The helper's parameter naming the region."""
        return "axis" if self.kind in AXIS_REGIONS else self.kind


class Pool(BaseModel):
    """Base of every pool: the region it reduces is set by the branch it sits in."""

    model_config = STRICT

    title: ClassVar[str]
    #: The value over a region R = {x_1..x_n}, in terms of the parameters.
    formula: ClassVar[str]
    #: What changes in training mode (most pools: nothing).
    training: ClassVar[str] = "same as inference"
    citation: ClassVar[str] = ""
    #: Papers a generated docstring cites when a block uses it.
    references: ClassVar[tuple[str, ...]] = ()
    #: Numeric parameters that become constructor arguments of the generated layer.
    numeric: ClassVar[tuple[str, ...]] = ()
    #: Other names people give this pool (compared after :func:`normal_name`), each
    #: with what to write instead.
    aliases: ClassVar[dict[str, str]] = {}
    #: A pool that is one backend reduction is printed inline, with no helper: the
    #: op's name in the dialect's table ("mean"); over windows, the ``_window_<op>``
    #: helper.
    inline: ClassVar[str | None] = None
    #: The template printing this pool's helper, under templates/ (others: None).
    template: ClassVar[str | None] = None
    #: Whether the pool draws random numbers (the layer then takes a ``seed``).
    seeded: ClassVar[bool] = False
    #: The regions it can reduce; a branch that asks another is refused by a rule.
    regions: ClassVar[tuple[str, ...]] = ("map", "across", "strip", "window")
    #: A pool that keeps every channel gives the spatial conv C maps, as a window does.
    keeps_channels: ClassVar[bool] = False

    window: number(integer=True, ge=1, le=63, odd=True) | None = None

    @property
    def kind(self) -> str:
        return self.type  # type: ignore[attr-defined]

    def learnable(self) -> tuple[str, ...]:
        """Parameters that are trainable weights of the layer (named ``<branch>_pool<i>_<p>``)."""
        return ()

    def logit(self, param: str) -> bool:
        """Whether a learnable parameter is stored as a logit (its value a sigmoid)."""
        return False

    def describe(self) -> str:
        """The formula for this pool's own settings (``formula`` covers them all)."""
        return self.formula

    def variant(self) -> str:
        """What names this pool's code among its kind's: settings that change the code
        (``lp_sum``), not those that only change numbers (``p``)."""
        return self.kind

    def helper_name(self, region: str) -> str:
        """The helper for ``region`` (see :data:`REGIONS`): one per pool variant for
        the regions an axis names, one for windows, one for extents."""
        suffix = "_pool" if region in AXIS_REGIONS else f"_{region}_pool"
        return f"_{self.variant()}{suffix}"

    def sublayers(self) -> tuple[str, ...]:
        """Keras layers the pool owns (named ``<branch>_pool<i>_<name>``)."""
        return ()

    def calls(self, region: str) -> tuple[str, ...]:
        """The shared helpers this pool's code calls for ``region`` (see the planner's
        table of them); a test renders every pool and region and checks this."""
        return ()

    def settings(self) -> dict[str, Any]:
        """The parameter values, without ``type`` and ``window``."""
        return {
            k: v for k, v in self.model_dump().items() if k not in ("type", "window")
        }

    def term(self, of: str = "x") -> str:
        """The pool in a docstring's formula: ``l2(x)``, ``avg_3x3(x)``."""
        if self.kind == "none":
            return of
        settings = self.label()
        if self.window is not None:
            settings = settings.replace(f"window={self.window}", "").replace("()", "")
            settings = settings.replace(", )", ")").replace("(, ", "(")
            return f"{settings}_{self.window}x{self.window}({of})"
        return f"{settings}({of})"

    def label(self) -> str:
        """Short name with the non-default settings, e.g. ``lp(p=3, normalize=sum)``."""
        defaults = type(self)(type=self.kind).settings()  # type: ignore[call-arg]
        changed = [
            f"{k}={v}" for k, v in self.settings().items() if defaults.get(k) != v
        ]
        if self.window is not None:
            changed.append(f"window={self.window}")
        return f"{self.kind}({', '.join(changed)})" if changed else self.kind


class AvgPool(Pool):
    type: Literal["avg"]
    inline: ClassVar[str] = "mean"
    title: ClassVar[str] = "average pooling"
    aliases: ClassVar[dict[str, str]] = {"average": "avg", "mean": "avg"}
    formula: ClassVar[str] = "mean(x_i)"

    regions: ClassVar[tuple[str, ...]] = REGIONS

    def calls(self, region: str) -> tuple[str, ...]:
        return {"window": ("_window_mean",), "extent": ("_extent_mean",)}.get(
            region, ()
        )


class MaxPool(Pool):
    type: Literal["max"]
    inline: ClassVar[str] = "max"
    title: ClassVar[str] = "max pooling"
    aliases: ClassVar[dict[str, str]] = {"maximum": "max"}
    formula: ClassVar[str] = "max(x_i)"

    regions: ClassVar[tuple[str, ...]] = REGIONS

    def calls(self, region: str) -> tuple[str, ...]:
        return {"window": ("_window_max",), "extent": ("_extent_max",)}.get(region, ())


class LpPool(Pool):
    type: Literal["lp"]
    template: ClassVar[str] = "pools/lp.py.j2"
    title: ClassVar[str] = "power-average (Lp) pooling"
    aliases: ClassVar[dict[str, str]] = {"power": "lp", "poweraverage": "lp"}
    formula: ClassVar[str] = (
        "(mean |x_i|^p)^(1/p); with normalize=sum: (sum |x_i|^p)^(1/p)"
    )
    citation: ClassVar[str] = "Sermanet et al. 2012; Boureau et al. 2010"
    numeric: ClassVar[tuple[str, ...]] = ("p",)

    p: number(ge=1, le=1000) = 2
    normalize: Literal["mean", "sum"] = "mean"

    def variant(self) -> str:
        return "lp_sum" if self.normalize == "sum" else "lp"

    def calls(self, region: str) -> tuple[str, ...]:
        window = ("_window_max", "_window_views", "_window_mean", "_window_count")
        return window if region == "window" else ()

    def describe(self) -> str:
        return f"({self.normalize} |x_i|^p)^(1/p)"


class L2Pool(Pool):
    type: Literal["l2"]
    template: ClassVar[str] = "pools/l2.py.j2"
    title: ClassVar[str] = "L2 pooling"
    aliases: ClassVar[dict[str, str]] = {"rms": "l2", "rootmeansquare": "l2"}
    formula: ClassVar[str] = "sqrt(mean(x_i^2)), i.e. lp with p=2, normalize=mean"
    citation: ClassVar[str] = "Sermanet et al. 2012"

    def calls(self, region: str) -> tuple[str, ...]:
        return ("_window_mean",) if region == "window" else ()

    def describe(self) -> str:
        return "sqrt(mean(x_i^2))"


class LsePool(Pool):
    type: Literal["lse"]
    template: ClassVar[str] = "pools/lse.py.j2"
    title: ClassVar[str] = "log-sum-exp pooling"
    aliases: ClassVar[dict[str, str]] = {"logsumexp": "lse"}
    formula: ClassVar[str] = (
        "(1/r) log(mean exp(r x_i)); with normalize=sum: (1/r) log(sum exp(r x_i))"
    )
    citation: ClassVar[str] = (
        "Pinheiro & Collobert 2015; 'lse' in the CBAM authors' code"
    )
    numeric: ClassVar[tuple[str, ...]] = ("r",)

    r: number(gt=0, le=1000) = 1.0
    normalize: Literal["mean", "sum"] = "mean"

    def variant(self) -> str:
        return "lse_sum" if self.normalize == "sum" else "lse"

    def calls(self, region: str) -> tuple[str, ...]:
        window = ("_window_max", "_window_views", "_window_mean", "_window_count")
        return window if region == "window" else ()

    def describe(self) -> str:
        return f"(1/r) log({self.normalize} exp(r x_i))"


class StochasticPool(Pool):
    type: Literal["stochastic"]
    template: ClassVar[str] = "pools/stochastic.py.j2"
    seeded: ClassVar[bool] = True
    title: ClassVar[str] = "stochastic pooling"
    aliases: ClassVar[dict[str, str]] = {
        "softmax": "{type: stochastic, weights: softmax}"
    }
    formula: ClassVar[str] = (
        "p_i = w_i / sum w_j with w = max(x, 0) (weights=relu) or exp(x - max x) "
        "(weights=softmax); inference: sum p_i x_i; a region with all w_i = 0 gives 0"
    )
    training: ClassVar[str] = (
        "outputs x_l with l drawn from p (one draw per region, from the layer's seed); "
        "the gradient reaches only x_l"
    )
    citation: ClassVar[str] = "Zeiler & Fergus 2013, arXiv:1301.3557"

    weights: Literal["relu", "softmax"] = "relu"
    sampler: Literal["fast", "simple"] = "fast"

    def settings(self) -> dict[str, Any]:
        values = super().settings()
        if self.window is not None:
            del values["sampler"]  # a window has one sampler (a rule rejects the key)
        return values

    def variant(self) -> str:
        weights = "softmax_" if self.weights == "softmax" else ""
        simple = self.sampler == "simple" and self.window is None
        sampler = "simple_" if simple else ""
        return f"{sampler}{weights}stochastic"

    def helper_name(self, region: str) -> str:
        # A map is sampled row, then column; the channels at a pixel are split into
        # blocks first: different code, so a helper of its own.
        name = super().helper_name(region)
        fast_map = region == "map" and self.sampler == "fast"
        return name.replace("_pool", "_map_pool") if fast_map else name

    def calls(self, region: str) -> tuple[str, ...]:
        if region == "window" and self.weights == "softmax":
            return (
                "_window_softmax_mean",
                "_window_max",
                "_window_views",
                "_sample_window",
            )
        if region == "window":
            return ("_window_mean", "_window_views", "_sample_window")
        if self.sampler == "simple":
            return ("_sample_simply",)
        split = ("_split_axis",) if region in ("across", "strip") else ()
        return (*split, "_sample_2d")

    def describe(self) -> str:
        w = "max(x, 0)" if self.weights == "relu" else "exp(x - max x)"
        return (
            f"with w = {w}, in training one x_l, drawn with probability w_l / sum(w), "
            "alone gets the gradient; at inference sum(w x) / sum(w); 0 if all w = 0"
        )


class GemPool(Pool):
    type: Literal["gem"]
    template: ClassVar[str] = "pools/gem.py.j2"
    title: ClassVar[str] = "generalized-mean (GeM) pooling"
    aliases: ClassVar[dict[str, str]] = {
        "generalizedmean": "gem",
        "generalisedmean": "gem",
    }
    formula: ClassVar[str] = "(mean max(x_i, eps)^p)^(1/p); p learnable when trainable"
    citation: ClassVar[str] = "Radenovic et al. 2018, arXiv:1711.02512"
    numeric: ClassVar[tuple[str, ...]] = ("p", "eps")

    p: number(gt=0, le=1000) = 3.0
    trainable: bool = True
    eps: number(gt=0, le=1) = 1e-6

    def learnable(self) -> tuple[str, ...]:
        return ("p",) if self.trainable else ()

    def calls(self, region: str) -> tuple[str, ...]:
        window = ("_window_max", "_window_views", "_window_mean", "_window_count")
        return window if region == "window" else ()

    def describe(self) -> str:
        learnable = ", p learnable" if self.trainable else ""
        return f"(mean max(x_i, eps)^p)^(1/p){learnable}"


class MixedPool(Pool):
    type: Literal["mixed"]
    template: ClassVar[str] = "pools/mixed.py.j2"
    title: ClassVar[str] = "mixed max-average pooling"
    aliases: ClassVar[dict[str, str]] = {"mixedmaxavg": "mixed", "maxavg": "mixed"}
    formula: ClassVar[str] = (
        "alpha max(x_i) + (1 - alpha) mean(x_i); a trainable alpha is sigmoid of a free "
        "weight, so it stays in (0, 1)"
    )
    citation: ClassVar[str] = "Lee et al. 2016, arXiv:1509.08985"
    numeric: ClassVar[tuple[str, ...]] = ("alpha",)

    alpha: number(ge=0, le=1) = 0.5
    trainable: bool = False

    def learnable(self) -> tuple[str, ...]:
        return ("alpha",) if self.trainable else ()

    def logit(self, param: str) -> bool:
        return param == "alpha"

    regions: ClassVar[tuple[str, ...]] = REGIONS

    def calls(self, region: str) -> tuple[str, ...]:
        if region in ("window", "extent"):
            return (f"_{region}_max", f"_{region}_mean")
        return ()

    def describe(self) -> str:
        learnable = ", alpha = sigmoid(a learnable weight)" if self.trainable else ""
        return f"alpha max(x_i) + (1 - alpha) mean(x_i){learnable}"


class SoftPool(Pool):
    type: Literal["softpool"]
    template: ClassVar[str] = "pools/softpool.py.j2"
    title: ClassVar[str] = "SoftPool"
    formula: ClassVar[str] = "sum softmax(x)_i x_i, computed max-shifted"
    citation: ClassVar[str] = "Stergiou et al. 2021, arXiv:2101.00440"

    def variant(self) -> str:
        return "soft"

    def calls(self, region: str) -> tuple[str, ...]:
        return ("_window_softmax_mean",) if region == "window" else ()

    def describe(self) -> str:
        return "sum softmax(x)_i x_i"


class AttentionPool(Pool):
    type: Literal["attention"]
    template: ClassVar[str] = "pools/attention.py.j2"
    title: ClassVar[str] = "attention pooling"
    aliases: ClassVar[dict[str, str]] = {"context": "attention", "gc": "attention"}
    formula: ClassVar[str] = (
        "sum softmax(s)_i x_i over the map, with scores s_i = w . x_i + b, one per "
        "pixel, from all C channels (w, b learnable)"
    )
    citation: ClassVar[str] = "Cao et al. 2019, GCNet, arXiv:1904.11492"
    references: ClassVar[tuple[str, ...]] = (citation,)
    regions: ClassVar[tuple[str, ...]] = ("map",)

    def sublayers(self) -> tuple[str, ...]:
        return ("score",)

    def describe(self) -> str:
        return "sum softmax(s)_i x_i, s = Dense(1) of each pixel's channels"


class NoPool(Pool):
    type: Literal["none"]
    inline: ClassVar[str] = "none"
    title: ClassVar[str] = "no pooling"
    aliases: ClassVar[dict[str, str]] = {"identity": "none", "features": "none"}
    formula: ClassVar[str] = (
        "x itself: every channel is a map of its own (spatial branch only)"
    )
    regions: ClassVar[tuple[str, ...]] = ("across",)
    keeps_channels: ClassVar[bool] = True

    def describe(self) -> str:
        return "x itself"


#: Every pool, in the order the docs and listings show them.
POOLS: dict[str, type[Pool]] = {
    cls.model_fields["type"].annotation.__args__[0]: cls  # type: ignore[union-attr]
    for cls in (
        AvgPool,
        MaxPool,
        LpPool,
        L2Pool,
        LsePool,
        StochasticPool,
        GemPool,
        MixedPool,
        SoftPool,
        AttentionPool,
        NoPool,
    )
}


def _as_mapping(value: Any) -> Any:
    """A bare pool name ``l2`` means ``{type: l2}``."""
    return {"type": value} if isinstance(value, str) else value


def _pool_tag(value: Any) -> str | None:
    return (
        value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    )


_TAGGED = tuple(Annotated[cls, Tag(name)] for name, cls in POOLS.items())

#: A pool in a spec: a bare name or a mapping, dispatched on ``type`` to its model.
PoolSpec = Annotated[
    Union[_TAGGED],  # noqa: UP007 (a Union built from the registry has no | spelling)
    Discriminator(
        _pool_tag,
        custom_error_type="unknown_pool",
        custom_error_message="unknown pool",
        custom_error_context={"choices": tuple(POOLS)},
    ),
    BeforeValidator(_as_mapping),
]


def normal_name(word: str) -> str:
    """A pool name as people vary it: any case, with '_pool', 'Pooling2D' or 'global_'
    around it (``AvgPool2D``, ``gem_pool``, ``max_pooling`` -> ``avg``, ``gem``, ``max``).
    """
    letters = re.sub(r"[^a-z0-9]", "", word.lower())
    stem = re.sub(r"^global|pool(ing)?(2d)?$", "", letters)
    return stem or letters


def suggest_pool(word: str) -> str | None:
    """What to write for an unknown pool name that is a known pool in disguise."""
    key = normal_name(word)
    for name, cls in POOLS.items():
        if key == normal_name(name):
            return f"'{name}'"
        if key in cls.aliases:
            spelling = cls.aliases[key]
            return spelling if spelling.startswith("{") else f"'{spelling}'"
    return None
