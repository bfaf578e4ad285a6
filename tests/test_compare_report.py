"""What the report says: the paired comparisons with Holm's adjustment, the difference
at each epoch, warnings (tiny data, constant gates), the --quick banner, failed trials
with their exception and a log of tracebacks; and what a run shows while it trains."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from cbamgen.compare import plots, report
from cbamgen.compare.gates import constant_gates
from cbamgen.compare.progress import Progress
from cbamgen.compare.results import Failure, Results, Row, exception_of
from cbamgen.compare.trials import Pair

pytestmark = [pytest.mark.keras, pytest.mark.compare]

SETUP = report.Setup("cbamgen compare ...", "digits", "resnet", "2 epochs", [0, 1, 2])


def row(spec: str, seed: int, accuracy: float, first_epoch: float, ms=2.0) -> Row:
    curves = {"val_accuracy": {0: first_epoch, 1: accuracy}}
    return Row(spec, seed, 100, ms, 1.0, accuracy, accuracy, f"{spec}{seed}", curves)


def results(seeds=3) -> Results:
    """cbam leads the baseline by 10 points at the end but trails it by 5 after the
    first epoch; avg differs from both by noise only."""
    rows = []
    for seed in range(seeds):
        base = 0.70 + 0.05 * seed
        rows += [
            row("baseline", seed, base, 0.50),
            row("cbam", seed, base + 0.10 + 0.01 * seed, 0.45),
            row("avg", seed, base + 0.02 * (-1) ** seed, 0.50),
        ]
    return Results(["baseline", "cbam", "avg"], rows=rows)


def comparison_rows(text: str) -> dict[str, list[str]]:
    section = text.split("## Is a difference")[1].split("\n## ")[0]
    return {
        cells[1]: cells[2:-1]
        for line in section.splitlines()
        if line.startswith("| **")
        for cells in [[c.strip() for c in line.split("|")]]
    }


def test_each_comparison_has_the_paired_test_the_holm_p_and_a_verdict():
    text = report.markdown(results(), SETUP, {}, plotted=False)
    rows = comparison_rows(text)
    assert list(rows) == [
        "**cbam** vs baseline",
        "**avg** vs baseline",
        "**avg** vs cbam",
    ]
    accuracy, points, interval, paired, holm, welch, seeds, verdict = rows[
        "**cbam** vs baseline"
    ]
    assert points == "+11.0" and seeds == "3"
    assert interval.startswith("+") and " to +" in interval
    # Three tests: Holm multiplies the smallest p by 3.
    assert float(holm) == pytest.approx(min(1, 3 * float(paired)), abs=2e-3)
    assert verdict == "**higher beyond seed noise**"
    assert rows["**avg** vs baseline"][-1] == "within seed noise"
    assert "Holm-adjusted p-values over the 3 comparison(s)" in text


def test_two_seeds_give_no_verdict():
    text = report.markdown(results(seeds=2), SETUP, {}, plotted=False)
    for cells in comparison_rows(text).values():
        assert cells[-1].startswith("too few seeds to tell (2 paired")


def test_the_difference_at_each_epoch_shows_a_budget_dependent_answer():
    text = report.markdown(results(), SETUP, {}, plotted=False)
    table = text.split("## The difference at each epoch")[1].split("\n## ")[0]
    assert "| comparison | 1 | 2 |" in table
    assert "| cbam vs baseline | -5.0 | +11.0 |" in table


def test_quick_runs_carry_a_banner_and_warnings_lead_the_report():
    setup = report.Setup(
        "cbamgen compare --quick", "d", "m", "r", [0], quick=True, warnings=["tiny"]
    )
    text = report.markdown(results(seeds=1), setup, {}, plotted=False)
    assert text.index(report.QUICK_BANNER) < text.index("    cbamgen compare --quick")
    assert "## Warnings\n\n- tiny\n" in text


def test_an_untimed_trial_says_n_a_rather_than_nan():
    untimed = Results(
        ["baseline", "cbam"],
        rows=[row("baseline", 0, 0.5, 0.5, math.nan), row("cbam", 0, 0.6, 0.6, 3.0)],
    )
    text = report.markdown(untimed, SETUP, {}, plotted=False)
    assert "nan" not in text
    assert "| baseline | 0.500 |" in text and "| n/a | 1 |" in text
    assert "Step time n/a: the trial had one training step" in text


KERAS_TRACEBACK = """Traceback (most recent call last):
  File "/x/keras_tuner/src/engine/base_tuner.py", line 274, in _try_run_and_update_trial
    self._run_and_update_trial(trial, *fit_args, **fit_kwargs)
  File "/x/keras/src/layers/layer.py", line 941, in __call__
    outputs = super().__call__(*args, **kwargs)
              ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
ValueError: Exception encountered when calling Conv2D.call().

Negative dimension size caused by subtracting 3 from 2

Arguments received by Conv2D.call():
  • inputs=tf.Tensor(shape=(None, 2, 2, 16), dtype=float32)
  • training=True
"""


def test_a_failure_keeps_its_exception_and_the_log_keeps_the_traceback(tmp_path):
    assert exception_of(KERAS_TRACEBACK) == (
        "ValueError: Exception encountered when calling Conv2D.call(). Negative "
        "dimension size caused by subtracting 3 from 2 Arguments received by "
        "Conv2D.call(): • inputs=tf.Tensor(shape=(None, 2, 2, 16), dtype=float32) • "
        "training=True"
    )
    failed = results(seeds=1)
    failed.rows = [r for r in failed.rows if r.spec != "cbam"]
    failed.failures = [Failure(Pair("cbam", "d", 0), "7", KERAS_TRACEBACK)]
    report.write(failed, SETUP, tmp_path)
    text = (tmp_path / "report.md").read_text()
    assert (
        "- cbam seed 0: failed: ValueError: Exception encountered when calling "
        "Conv2D.call()." in text
    )
    assert "(traceback: failures.log)" in text
    log = (tmp_path / "failures.log").read_text()
    assert log.startswith(
        "== cbam seed 0 (trial 7)\nTraceback (most recent call last):"
    )
    report.write(results(seeds=1), SETUP, tmp_path)  # all good now
    assert not (tmp_path / "failures.log").exists()


def test_a_gate_the_same_for_every_image_is_flagged_with_what_to_change():
    rng = np.random.default_rng(0)
    gates = {
        "images": np.zeros((6, 8, 8, 1)),
        "block0_channel": np.full((6, 32), 0.5),
        "block0_hidden": np.array(2),
        "block0_spatial": rng.random((6, 8, 8)),
        "block1_channel": np.tile(rng.random(16), (6, 1)),  # per channel, not per image
    }
    notes = constant_gates(gates)
    assert len(notes) == 2
    assert notes[0].startswith(
        "block0's channel gate is a constant 0.500 over 6 validation images"
    )
    assert "Its MLP has 2 hidden unit(s) for 32 channels" in notes[0]
    assert "a smaller `reduction`, or `min_hidden: 8`" in notes[0]
    assert notes[1].startswith("block1's channel gate is the same for every image")
    gates["block0_channel"][0, 0] = 0.6
    assert len(constant_gates(gates)) == 1


def test_constant_gates_are_warnings_of_the_report(tmp_path: Path):
    gates = {"images": np.zeros((4, 8, 8, 1)), "block0_channel": np.full((4, 8), 0.5)}
    np.savez(tmp_path / "g.npz", **gates)
    found = results(seeds=1)
    found.maps = {"cbam": tmp_path / "g.npz"}
    out = tmp_path / "out"
    out.mkdir()
    report.write(found, SETUP, out)
    text = (out / "report.md").read_text()
    warning = "- cbam: block0's channel gate is a constant 0.500"
    assert warning in text.split("## Results")[0]
    assert "block0's channel gate is a constant" in text.split("### cbam")[1]


def test_one_point_curves_get_no_zoomed_axis():
    low, high = plots.accuracy_limits([0.102, 0.109])
    assert high - low >= plots.MIN_SPAN
    assert low <= 0.102 and high >= 0.109
    assert plots.accuracy_limits([0.995, 1.0])[1] <= 1.01
    low, high = plots.accuracy_limits([0.3, 0.9])
    assert low < 0.3 and 0.9 < high < 1


def test_progress_lines_say_trial_epoch_loss_and_time_left(capsys, monkeypatch):
    clock = iter([0.0, 60.0])
    monkeypatch.setattr("time.monotonic", lambda: next(clock))
    progress = Progress(trials=3, steps=10, shown="lines")
    progress.trial_begins("cbam seed 0")
    for _ in range(5):
        progress.step(1.5)
    progress.epoch_ends(0, 2, {"loss": 1.5, "val_accuracy": 0.25})
    progress.close()
    err = capsys.readouterr().err
    assert "trial 1/3: cbam seed 0\n" in err
    # 5 of 30 steps in 60 s: 25 more take 300 s.
    assert (
        "cbam seed 0: epoch 1/2, loss 1.500, val accuracy 0.250, about 5 min left"
        in err
    )


def test_progress_is_silent_when_off(capsys):
    progress = Progress(trials=1, steps=2, shown="off")
    progress.trial_begins("x")
    progress.step(0.1)
    progress.epoch_ends(0, 1, {"loss": 0.1})
    progress.close()
    assert capsys.readouterr().err == ""


def test_progress_is_off_under_quiet_and_in_ci(monkeypatch):
    from cbamgen.compare.progress import mode

    monkeypatch.delenv("CI", raising=False)
    assert mode(quiet=True) == "off"
    assert mode() in ("bars", "lines")
    monkeypatch.setenv("CI", "true")
    assert mode() == "off"
