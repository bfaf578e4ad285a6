"""The planned pairs' outcomes, read from KerasTuner's trial records, as tables.

For each planned (variant, seed) pair: the latest completed trial, else the latest
failed one (a failure), else nothing yet (missing). Trials of pairs no longer planned
(an edited spec, other seeds) are left out.
"""

from __future__ import annotations

import csv
import io
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


@dataclass
class Results:
    labels: list[str]  # variants in plan order, the baseline first
    rows: list[Row] = field(default_factory=list)
    failures: list[tuple[Pair, str]] = field(default_factory=list)
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
            results.failures.append((pair, _last_line(failed[-1].message)))
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
        metric("step_ms"),
        metric("train_accuracy"),
        metric("val_accuracy"),
        metric("best_val_accuracy"),
        trial.trial_id,
        curves_of(trial),
    )


def _last_line(message: str | None) -> str:
    lines = [line for line in (message or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message recorded"


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
                f"{row.step_ms:.3f}",
                f"{row.train_accuracy:.6f}",
                f"{row.val_accuracy:.6f}",
                f"{row.best_val_accuracy:.6f}",
                row.trial,
            ]
        )
    return out.getvalue()


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
