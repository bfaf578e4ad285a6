"""Welch's t-test and the report's sentences, on numbers worked out by hand."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from cbamgen.compare.stats import summarize, verdict, welch

pytestmark = pytest.mark.compare

# a = [1, 2, 3]: mean 2, sample variance 1, so s_a^2 / n_a = 1/3.
# b = [4, 5, 6, 7]: mean 5.5, sample variance 5/3, so s_b^2 / n_b = 5/12.
# t = (2 - 5.5) / sqrt(1/3 + 5/12) = -3.5 / sqrt(0.75) = -4.041452
# df = 0.75^2 / ((1/3)^2 / 2 + (5/12)^2 / 3) = 0.5625 / (49/432) = 243/49 = 4.959184
A, B = [1.0, 2.0, 3.0], [4.0, 5.0, 6.0, 7.0]


def test_welch_t_and_degrees_of_freedom_by_hand():
    result = welch(A, B)
    assert result.t == pytest.approx(-3.5 / math.sqrt(0.75), rel=1e-12)
    assert result.df == pytest.approx(243 / 49, rel=1e-12)


def test_welch_p_value_within_the_t_table_and_equal_to_scipys_welch():
    result = welch(A, B)
    # Student's t table, two-sided: df 5 needs |t| > 4.032 for p < 0.01 and df 4 needs
    # |t| > 3.747 for p < 0.02; |t| = 4.04 at df 4.96 lies between the two.
    assert 0.005 < result.p < 0.02
    reference = scipy_stats.ttest_ind(A, B, equal_var=False)
    assert result.p == pytest.approx(reference.pvalue, rel=1e-9)
    assert result.t == pytest.approx(reference.statistic, rel=1e-12)


def test_summary_uses_the_sample_standard_deviation():
    summary = summarize([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])
    assert summary.mean == 5.0
    assert summary.std == pytest.approx(math.sqrt(32 / 7))  # n - 1 in the denominator
    assert math.isnan(summarize([0.5]).std)


def test_welch_is_undefined_without_two_values_or_without_spread():
    assert welch([0.9], [0.8, 0.7]) is None
    assert welch([0.8, 0.8], [0.7, 0.7]) is None


def test_sentences_say_whether_a_difference_exceeds_seed_noise():
    clear = verdict("l2", "cbam", [0.90, 0.91, 0.92], [0.80, 0.81, 0.82])
    assert clear.startswith(
        "**l2** vs cbam: validation accuracy 0.910 vs 0.810 (+10.0 points)"
    )
    assert "higher beyond seed noise" in clear
    worse = verdict("avg", "cbam", [0.80, 0.81, 0.82], [0.90, 0.91, 0.92])
    assert "lower beyond seed noise" in worse
    noisy = verdict("avg", "cbam", [0.80, 0.90, 0.85], [0.84, 0.86, 0.83])
    assert noisy.endswith("within seed noise.")
    single = verdict("avg", "cbam", [0.8], [0.9])
    assert "with 1 seed a difference cannot be told from seed noise" in single
