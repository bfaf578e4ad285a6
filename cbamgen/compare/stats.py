"""Summaries over seeds and Welch's t-test: is a difference larger than seed noise?

Welch's test does not assume that both variants vary as much from seed to seed:

    t = (mean_a - mean_b) / sqrt(s_a^2 / n_a + s_b^2 / n_b)
    df = (s_a^2/n_a + s_b^2/n_b)^2 / ((s_a^2/n_a)^2 / (n_a - 1) + (s_b^2/n_b)^2 / (n_b - 1))

with s^2 the sample variances (n - 1 in the denominator); p is the two-sided tail of
Student's t with df degrees of freedom (scipy, installed with scikit-learn).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

#: A difference "exceeds seed noise" when Welch's two-sided p is below this.
ALPHA = 0.05


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation; nan for one value
    n: int


def summarize(values: Sequence[float]) -> Summary:
    n = len(values)
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else math.nan
    return Summary(mean, math.sqrt(var), n)


@dataclass(frozen=True)
class Welch:
    t: float
    df: float
    p: float


def welch(a: Sequence[float], b: Sequence[float]) -> Welch | None:
    """Welch's t-test of mean(a) = mean(b); None when it is undefined: fewer than two
    values on a side, or no spread on either side."""
    if len(a) < 2 or len(b) < 2:
        return None
    sa, sb = summarize(a), summarize(b)
    va, vb = sa.std**2 / sa.n, sb.std**2 / sb.n
    if va + vb == 0:
        return None
    t = (sa.mean - sb.mean) / math.sqrt(va + vb)
    df = (va + vb) ** 2 / (va**2 / (sa.n - 1) + vb**2 / (sb.n - 1))
    from scipy.stats import t as student

    return Welch(t, df, float(2 * student.sf(abs(t), df)))


def verdict(name: str, other: str, a: Sequence[float], b: Sequence[float]) -> str:
    """One plain sentence: does ``name``'s validation accuracy differ from ``other``'s
    by more than seed noise?"""
    sa, sb = summarize(a), summarize(b)
    points = 100 * (sa.mean - sb.mean)
    what = (
        f"**{name}** vs {other}: validation accuracy {sa.mean:.3f} vs {sb.mean:.3f} "
        f"({points:+.1f} points)"
    )
    test = welch(a, b)
    if test is None:
        if min(sa.n, sb.n) < 2:
            return (
                f"{what}; with {min(sa.n, sb.n)} seed a difference cannot be told "
                "from seed noise (run with --seeds 3 or more)."
            )
        same = "no difference" if sa.mean == sb.mean else "a difference"
        return f"{what}; every seed gave the same value on both sides: {same}, no noise to test."
    stat = f"Welch t = {test.t:.2f}, df = {test.df:.1f}, p = {test.p:.3f} ({sa.n} vs {sb.n} seeds)"
    if test.p < ALPHA:
        direction = "higher" if points > 0 else "lower"
        return f"{what}; {stat}: **{direction} beyond seed noise** (p < {ALPHA})."
    return f"{what}; {stat}: within seed noise."
