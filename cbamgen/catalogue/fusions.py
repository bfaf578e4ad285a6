"""Fusions and gamma modes: how a block forms its output from its branches.

A fusion combines the channel and spatial branches; a gamma mode wraps the block's
output in a learnable scalar gate. Each has a macro in ``templates/fusions.py.j2`` and
a function in :mod:`cbamgen.reference.fusions`. Adding one means: a class here, its
macro there, its function there; the tests draw them from :data:`FUSIONS` and
:data:`GAMMAS`.
"""

from __future__ import annotations

from typing import ClassVar

from .parts import Part, registry

BAM = "Park et al. 2018, BAM, arXiv:1807.06514"


class Fusion(Part):
    """Combines two branches, a (the channel gate) and s (the spatial gate)."""

    template = "fusions.py.j2"
    #: Whether it combines the branches' logits, gating them itself (the branches'
    #: own ``gate`` keys then have no effect).
    on_logits: ClassVar[bool] = False
    #: Whether both branches see x and their outputs are combined (side by side).
    parallel: ClassVar[bool] = False
    #: ``formula`` with what the channel branch makes of x in place of ``x * a``:
    #: {c} (in parentheses as {cp} when it is a sum), {cs} of x * s, {what} it computes.
    pattern: ClassVar[str] = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if cls.pattern:
            cls.formula = cls.pattern.format(
                c="x * a", cp="x * a", cs="x * s * a", what="a"
            )

    def describe(self, channel: str, channel_of_xs: str, what: str) -> str:
        """The formula for a channel branch that makes ``channel`` of x and
        ``channel_of_xs`` of x * s, computing ``what`` (a, t, or both)."""
        if not self.pattern:
            return self.formula
        compound = f"({channel})" if "+" in channel else channel
        return self.pattern.format(c=channel, cp=compound, cs=channel_of_xs, what=what)


class Sequential(Fusion):
    name = "sequential"
    summary = "S(C(x)), as CBAM"
    pattern = "y = {cp} * s, s computed from {c} (sequential)"


class SpatialFirst(Fusion):
    name = "spatial_first"
    summary = "C(S(x))"
    pattern = "y = {cs}, {what} computed from x * s (spatial first)"


class Add(Fusion):
    name = "add"
    summary = "C(x) + S(x)"
    parallel = True
    pattern = "y = {c} + x * s"


class Multiply(Fusion):
    name = "multiply"
    summary = "C(x) * S(x), their product"
    parallel = True
    pattern = "y = ({c}) * (x * s)"


class Mean(Fusion):
    name = "mean"
    summary = "(C(x) + S(x)) / 2, their average"
    parallel = True
    pattern = "y = ({c} + x * s) / 2"


class Max(Fusion):
    name = "max"
    summary = "max(C(x), S(x)), their element-wise maximum"
    parallel = True
    pattern = "y = max({c}, x * s)"
    citation = "Roy et al. 2018, scSE, arXiv:1803.02579"
    references = (citation,)


class Bam(Fusion):
    name = "bam"
    summary = "x (1 + sigmoid(Mc + Ms)) of the branches' logits, BAM's paper"
    formula = "y = x * (1 + sigmoid(Mc + Ms)), Mc and Ms the branches' logits"
    citation = "Park et al. 2018, BAM, arXiv:1807.06514, as the paper writes it"
    references = (BAM,)
    on_logits = True


class BamProduct(Fusion):
    name = "bam_product"
    summary = "x (1 + sigmoid(Mc * Ms)), BAM's code"
    formula = "y = x * (1 + sigmoid(Mc * Ms)), Mc and Ms the branches' logits"
    citation = "Park et al. 2018, BAM, as the authors' code computes it"
    references = (BAM,)
    on_logits = True


FUSIONS = registry(
    Sequential(), SpatialFirst(), Add(), Multiply(), Mean(), Max(), Bam(), BamProduct()
)


class GammaMode(Part):
    """Wraps the block's output y: its macro in ``templates/gamma.py.j2`` (named
    ``macro``: Jinja keeps 'none' for itself) prints the layer's ``outputs``."""

    template = "gamma.py.j2"
    macro: ClassVar[str]
    #: Whether the mode has the learnable scalar ``gamma``.
    learnable: ClassVar[bool] = True

    def plan(self, spec, ctx) -> None:
        """Its constructor argument and weight, when it has gamma."""
        if self.learnable:
            ctx.arg("gamma_init", spec.gamma.init, "starting value of gamma")
            ctx.weight("gamma", "()")


class NoGamma(GammaMode):
    name = "none"
    macro = "identity"
    formula = "y"
    learnable = False


class Blend(GammaMode):
    name = "blend"
    macro = "blend"
    formula = "(1 - gamma) * x + gamma * y, gamma learnable"


class Residual(GammaMode):
    name = "residual"
    macro = "residual"
    formula = "x + gamma * y, gamma learnable"


GAMMAS = registry(Blend(), Residual(), NoGamma())
