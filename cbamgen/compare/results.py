"""The planned pairs' outcomes, read from KerasTuner's trial records, as tables.

For each planned (variant, seed) pair: the latest completed trial, else the latest
failed one (a failure), else nothing yet (missing). Trials of pairs no longer planned
(an edited spec, other seeds) are left out.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass, field
from pathlib import Path

from .trials import GATES_FILE, NOTE_FILE, Pair, curves_of

COLUMNS = (
    "spec",
    "seed",
    "params",
    "step_ms",
    "train_accuracy",
    "val_accuracy",
    "best_val_accuracy",
    "start_val_accuracy",
    "trial",
)
CURVE_COLUMNS = (
    "spec",
    "seed",
    "epoch",
    "loss",
    "accuracy",
    "val_loss",
    "val_accuracy",
)
COMPLETED, FAILED = "COMPLETED", "FAILED"
START = "start_val_accuracy"


@dataclass(frozen=True)
class Row:
    spec: str
    seed: int
    params: int
    step_ms: float
    train_accuracy: float
    val_accuracy: float
    best_val_accuracy: float
    trial: str
    curves: dict[str, dict[int, float]]
    #: Validation accuracy before training (nan in records older than the metric).
    start_val_accuracy: float = math.nan


@dataclass(frozen=True)
class Failure:
    """A planned pair whose latest trial failed: the exception, and the traceback
    KerasTuner recorded (it travels through the oracle, so workers' failures have it).
    """

    pair: Pair
    trial: str
    traceback: str

    @property
    def exception(self) -> str:
        return exception_of(self.traceback)


@dataclass
class Results:
    labels: list[str]  # variants in plan order, the baseline first
    rows: list[Row] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    missing: list[Pair] = field(default_factory=list)
    #: label -> the first completed seed's attention.npz, or a note saying why not.
    maps: dict[str, Path | str] = field(default_factory=dict)

    def rows_of(self, label: str) -> list[Row]:
        return [row for row in self.rows if row.spec == label]


def collect(trials, pairs: list[Pair], project_dir: Path) -> Results:
    """``trials``: the oracle's ``{trial_id: Trial}``."""
    by_pair: dict[Pair, list] = {}
    for trial_id in sorted(trials):
        trial = trials[trial_id]
        by_pair.setdefault(Pair.of(trial), []).append(trial)
    results = Results(list(dict.fromkeys(p.label for p in pairs)))
    for pair in pairs:
        done = [t for t in by_pair.get(pair, []) if t.status == COMPLETED]
        failed = [t for t in by_pair.get(pair, []) if t.status == FAILED]
        if done:
            results.rows.append(_row(pair, done[-1]))
        elif failed:
            trial = failed[-1]
            results.failures.append(
                Failure(pair, trial.trial_id, trial.message or "no message recorded")
            )
        else:
            results.missing.append(pair)
    for label in results.labels:
        rows = results.rows_of(label)
        if label != "baseline" and rows:
            results.maps[label] = _map_of(project_dir / f"trial_{rows[0].trial}")
    return results


def _row(pair: Pair, trial) -> Row:
    def metric(name: str) -> float:
        return trial.metrics.get_last_value(name)

    return Row(
        pair.label,
        pair.seed,
        int(metric("params")),
        metric("step_ms") if trial.metrics.exists("step_ms") else math.nan,
        metric("train_accuracy"),
        metric("val_accuracy"),
        metric("best_val_accuracy"),
        trial.trial_id,
        curves_of(trial),
        metric(START) if trial.metrics.exists(START) else math.nan,
    )


#: Longer exception messages are cut in the report (the log has them whole).
MESSAGE_CHARS = 400


def exception_of(traceback: str) -> str:
    """``Type: message`` of the last exception of a formatted traceback, on one line:
    the lines after its last frame (``  File ...``) and that frame's source lines."""
    lines = traceback.rstrip().splitlines()
    start = max(
        (i + 1 for i, line in enumerate(lines) if line.startswith("  File ")), default=0
    )
    while start < len(lines) and lines[start].startswith("    "):
        start += 1
    text = " ".join(line.strip() for line in lines[start:] if line.strip())
    if len(text) > MESSAGE_CHARS:
        text = text[: MESSAGE_CHARS - 1].rstrip() + "…"
    return text or "no message recorded"


def failures_log(results: Results) -> str:
    """Every failed trial's traceback, as KerasTuner recorded it."""
    return "".join(
        f"== {f.pair.label} seed {f.pair.seed} (trial {f.trial})\n{f.traceback.rstrip()}\n\n"
        for f in results.failures
    )


def _map_of(trial_dir: Path) -> Path | str:
    if (trial_dir / GATES_FILE).exists():
        return trial_dir / GATES_FILE
    if (trial_dir / NOTE_FILE).exists():
        return (trial_dir / NOTE_FILE).read_text(encoding="utf-8").strip()
    return (
        f"no attention maps in {trial_dir} (the trial ran on a machine that does not "
        "share this output directory)"
    )


def results_csv(results: Results) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in results.rows:
        writer.writerow(
            [
                row.spec,
                row.seed,
                row.params,
                "" if math.isnan(row.step_ms) else f"{row.step_ms:.3f}",
                f"{row.train_accuracy:.6f}",
                f"{row.val_accuracy:.6f}",
                f"{row.best_val_accuracy:.6f}",
                _number(row.start_val_accuracy),
                row.trial,
            ]
        )
    return out.getvalue()


def _number(value: float) -> str:
    return "" if math.isnan(value) else f"{value:.6f}"


def curves_csv(results: Results) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CURVE_COLUMNS)
    for row in results.rows:
        epochs = sorted(set().union(*(c.keys() for c in row.curves.values())))
        for epoch in epochs:
            values = [row.curves.get(name, {}).get(epoch) for name in CURVE_COLUMNS[3:]]
            writer.writerow(
                [row.spec, row.seed, epoch + 1]
                + ["" if v is None else f"{v:.6f}" for v in values]
            )
    return out.getvalue()
