"""Statistics over seeds: is a difference between two variants more than seed noise?

Seeds pair the runs: for one seed, every variant starts its shared layers from the same
weights and sees the same batches (see ``train.py``). So the primary test is paired:
Student's t on the per-seed differences (``scipy.stats.ttest_rel``), with the mean
difference and its 95% confidence interval. Welch's test (``scipy.stats.ttest_ind``
with ``equal_var=False``), which ignores the pairing, is shown beside it.

A report makes many comparisons at once: at 5% each, 13 tests call a false "difference"
somewhere far more often than one report in twenty (1 - 0.95^13 = 49% if they were
independent). The verdict therefore rests on Holm-adjusted p-values, which keep the
chance of any false call in a report at most 5% (Holm 1979). Below three paired seeds (one or two degrees of freedom) no
verdict is given.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

#: The family-wise error rate the verdicts keep.
ALPHA = 0.05
#: Fewer paired seeds than this: too few to tell.
MIN_SEEDS = 3
CONFIDENCE = 0.95


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
class Comparison:
    """``name`` against ``other`` over the seeds both completed."""

    name: str
    other: str
    seeds: int  # paired seeds
    mean: float  # name's mean over those seeds
    other_mean: float
    difference: float  # mean of the per-seed differences, name - other
    interval: tuple[float, float] | None  # its 95% confidence interval
    paired_p: float | None
    welch_p: float | None
    adjusted_p: float | None = None  # Holm, over the report's tests

    @property
    def no_spread(self) -> bool:
        """Every seed gave the same difference: nothing to test."""
        return self.seeds >= 2 and self.paired_p is None


def compare_runs(
    name: str, other: str, a: Mapping[int, float], b: Mapping[int, float]
) -> Comparison:
    """Paired and Welch's tests of ``a`` (by seed) against ``b`` (by seed)."""
    from scipy import stats

    seeds = sorted(set(a) & set(b))
    x = np.array([a[s] for s in seeds], dtype=float)
    y = np.array([b[s] for s in seeds], dtype=float)
    differences = x - y
    mean = float(differences.mean()) if seeds else math.nan
    interval = paired_p = welch_p = None
    if len(seeds) >= 2 and _varies(differences):
        result = stats.ttest_rel(x, y)
        low, high = result.confidence_interval(CONFIDENCE)
        interval, paired_p = (float(low), float(high)), float(result.pvalue)
    if len(a) >= 2 and len(b) >= 2 and (_varies(a.values()) or _varies(b.values())):
        with warnings.catch_warnings():
            # SciPy warns of "precision loss" for a side whose seeds all agree (a
            # validation accuracy of 1.0 each time); its variance is 0, exactly.
            warnings.simplefilter("ignore", RuntimeWarning)
            test = stats.ttest_ind(list(a.values()), list(b.values()), equal_var=False)
        welch_p = float(test.pvalue)
    return Comparison(
        name,
        other,
        len(seeds),
        float(x.mean()) if seeds else math.nan,
        float(y.mean()) if seeds else math.nan,
        mean,
        interval,
        paired_p,
        welch_p,
    )


def _varies(values) -> bool:
    """More than rounding apart: on equal values t is undefined, and on values equal
    but for rounding it is huge and meaningless."""
    return float(np.ptp(np.fromiter(values, float))) > 1e-9


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjustment: the i-th smallest of m p-values becomes
    max over j <= i of min(1, (m - j + 1) p_(j)); None stays None and is not counted.
    (SciPy has no Holm; its false_discovery_control controls another error rate.)"""
    order = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, index) in enumerate(order):
        running = max(running, min(1.0, (len(order) - rank) * p))
        adjusted[index] = running
    return adjusted


def adjust(tests: Sequence[Comparison]) -> list[Comparison]:
    """The tests with their Holm-adjusted p-values, over the tests that have a p."""
    adjusted = holm([t.paired_p if t.seeds >= MIN_SEEDS else None for t in tests])
    return [replace(t, adjusted_p=p) for t, p in zip(tests, adjusted, strict=True)]


def verdict(result: Comparison) -> str:
    """A few words: does the difference exceed seed noise?"""
    if result.seeds < MIN_SEEDS:
        return (
            f"too few seeds to tell ({result.seeds} paired; run with --seeds "
            f"{MIN_SEEDS} or more)"
        )
    if result.no_spread:
        same = "no difference" if result.difference == 0 else "the same difference"
        return f"every seed gave {same}: no noise to test"
    if result.adjusted_p is not None and result.adjusted_p < ALPHA:
        direction = "higher" if result.difference > 0 else "lower"
        return f"**{direction} beyond seed noise**"
    return "within seed noise"
