"""The report's statistics: the paired test on per-seed differences, Welch's beside it,
Holm's adjustment over a report's comparisons, and the verdicts, on numbers worked out
by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from cbamgen.compare.stats import adjust, compare_runs, holm, summarize, verdict

pytestmark = pytest.mark.compare

# By seed: a - b = [0.02, 0.04, 0.06]: mean 0.04, sample std 0.02, standard error
# 0.02 / sqrt(3); t = 0.04 / (0.02 / sqrt(3)) = 2 sqrt(3) = 3.4641 with 2 degrees of
# freedom. Student's t table, two-sided, df 2: p = 0.05 at 4.303, 0.10 at 2.920.
# The 95% interval: 0.04 +- 4.302653 * 0.02 / sqrt(3) = 0.04 +- 0.049683.
A = {0: 0.82, 1: 0.74, 2: 0.90}
B = {0: 0.80, 1: 0.70, 2: 0.84}


def test_the_paired_test_uses_the_per_seed_differences():
    result = compare_runs("x", "y", A, B)
    assert result.seeds == 3
    assert result.difference == pytest.approx(0.04)
    assert 0.05 < result.paired_p < 0.10
    t = 2 * math.sqrt(3)
    assert result.paired_p == pytest.approx(2 * scipy_stats.t.sf(t, 2), rel=1e-9)
    half = 4.302653 * 0.02 / math.sqrt(3)
    assert result.interval == pytest.approx((0.04 - half, 0.04 + half), abs=1e-6)


def test_pairing_finds_what_the_spread_between_seeds_hides():
    """Seeds differ a lot (0.70 to 0.90), the difference hardly: Welch's test,
    which ignores the pairing, sees only the spread."""
    a = {0: 0.72, 1: 0.81, 2: 0.91, 3: 0.77}
    b = {0: 0.70, 1: 0.79, 2: 0.88, 3: 0.75}
    result = compare_runs("x", "y", a, b)
    assert result.paired_p < 0.01
    assert result.welch_p > 0.5
    welch = scipy_stats.ttest_ind(list(a.values()), list(b.values()), equal_var=False)
    assert result.welch_p == pytest.approx(welch.pvalue)


def test_only_seeds_both_sides_completed_are_paired():
    result = compare_runs("x", "y", {0: 0.9, 1: 0.8, 2: 0.7, 3: 0.6}, {1: 0.7, 2: 0.6})
    assert result.seeds == 2 and result.difference == pytest.approx(0.1)


def test_holm_by_hand():
    # Sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1: 0.02, 0.03, 0.06, 0.04; then
    # each at least the one before: 0.02, 0.03, 0.06, 0.06 (R's p.adjust(., "holm")).
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.9]) == [pytest.approx(1.0), None, pytest.approx(1.0)]
    assert holm([]) == []


def test_the_verdict_rests_on_the_adjusted_p():
    clear = {s: 0.9 + 0.01 * s for s in range(5)}
    base = {s: 0.8 + 0.01 * s + 0.002 * (-1) ** s for s in range(5)}
    alone = adjust([compare_runs("x", "base", clear, base)])[0]
    assert alone.adjusted_p == pytest.approx(alone.paired_p)
    assert verdict(alone) == "**higher beyond seed noise**"
    # One p just under 0.05 among three tests: not a difference after adjustment.
    a = {0: 0.82, 1: 0.70, 2: 0.90, 3: 0.74}
    b = {0: 0.80, 1: 0.69, 2: 0.86, 3: 0.72}
    marginal = compare_runs("m", "base", a, b)
    assert 0.01 < marginal.paired_p < 0.05
    noise = compare_runs(
        "n", "base", {0: 0.8, 1: 0.9, 2: 0.7}, {0: 0.85, 1: 0.8, 2: 0.8}
    )
    tests = adjust([marginal, noise, noise])
    assert tests[0].adjusted_p == pytest.approx(min(1, 3 * marginal.paired_p))
    assert verdict(tests[0]) == "within seed noise"


def test_two_seeds_are_too_few_to_tell():
    result = adjust([compare_runs("x", "y", {0: 0.9, 1: 0.95}, {0: 0.5, 1: 0.52})])[0]
    assert result.paired_p is not None and result.adjusted_p is None
    assert verdict(result).startswith("too few seeds to tell (2 paired")
    one = adjust([compare_runs("x", "y", {0: 0.9}, {0: 0.5})])[0]
    assert one.paired_p is None and one.interval is None
    assert verdict(one).startswith("too few seeds to tell (1 paired")


def test_equal_differences_have_no_noise_to_test():
    same = compare_runs("x", "y", {0: 0.9, 1: 0.8, 2: 0.7}, {0: 0.8, 1: 0.7, 2: 0.6})
    assert same.no_spread and verdict(same).startswith("every seed gave the same")


def test_summary_uses_the_sample_standard_deviation():
    summary = summarize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert summary.mean == 5.0
    assert summary.std == pytest.approx(math.sqrt(32 / 7))  # n - 1 in the denominator
    assert math.isnan(summarize([0.5]).std)
