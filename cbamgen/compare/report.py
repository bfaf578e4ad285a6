"""``report.md``, ``results.csv``, ``curves.csv``, ``failures.log`` and the plots they
show.

The plots are written first, then the text files together (staged, then renamed): a
failure leaves the previous report whole, never half a new one, and a report never
links a plot that is not there.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..writer import write_all
from . import plots
from .gates import constant_gates
from .results import Results, curves_csv, failures_log, results_csv
from .stats import (
    ALPHA,
    MIN_SEEDS,
    Comparison,
    adjust,
    compare_runs,
    summarize,
    verdict,
)

BASELINE = "baseline"
START_NOTE = [
    '"At start" is the validation accuracy before the first training step: with',
    "blocks that start as the identity in a trained network, the trained network's.",
]
FAILURES_LOG = "failures.log"
QUICK_BANNER = (
    "> **A smoke test, not evidence** (`--quick`: one seed, one epoch, a slice of the "
    "data). It shows that everything runs; its accuracies say nothing about which "
    "block is better."
)


@dataclass(frozen=True)
class Setup:
    """What the report says about how the trials were run."""

    command: str
    data: str
    model: str
    recipe: str
    seeds: list[int]
    quick: bool = False
    #: Said at the top of the report (e.g. a validation split too small to tell).
    warnings: list[str] = field(default_factory=list)
    #: The networks start trained, or their blocks as the identity: the report shows
    #: the accuracy before training.
    fine_tuning: bool = False


def write(results: Results, setup: Setup, out: Path) -> list[Path]:
    """Write everything into ``out``; returns the files written."""
    written = []
    has_rows = bool(results.rows)
    if has_rows:
        plots.curves(results, out / "curves.png")
        plots.speed(results, out / "speed.png")
        written += [out / "curves.png", out / "speed.png"]
    maps, notes = {}, {}
    for label, source in results.maps.items():
        if isinstance(source, Path):
            path = out / f"attention_{label}.png"
            with np.load(source) as stored:
                gates = dict(stored)
            plots.attention(label, gates, path)
            maps[label] = path.name
            notes[label] = constant_gates(gates)
            written.append(path)
        else:
            maps[label] = source
    texts = [
        (out / "results.csv", results_csv(results)),
        (out / "curves.csv", curves_csv(results)),
        (out / "report.md", markdown(results, setup, maps, has_rows, notes)),
    ]
    log = out / FAILURES_LOG
    if results.failures:
        texts.append((log, failures_log(results)))
    write_all(texts)
    if not results.failures:
        log.unlink(missing_ok=True)  # an earlier run's failures are not this run's
    return written + [path for path, _ in texts]


def comparisons(results: Results) -> list[Comparison]:
    """Each spec against the baseline, and each later spec against the first, on the
    final validation accuracy, with Holm-adjusted p-values over all of them."""
    accuracy = {
        label: {r.seed: r.val_accuracy for r in results.rows_of(label)}
        for label in results.labels
    }
    specs = [label for label in results.labels if label != BASELINE]
    found = [
        compare_runs(label, other, accuracy[label], accuracy[other])
        for label in specs
        for other in dict.fromkeys([BASELINE, specs[0]])
        if label != other and accuracy[label] and accuracy[other]
    ]
    return adjust(found)


def markdown(
    results: Results,
    setup: Setup,
    maps: dict[str, str],
    plotted: bool,
    notes: dict[str, list[str]] | None = None,
) -> str:
    notes = notes or {}
    lines = ["# Attention blocks compared", ""]
    if setup.quick:
        lines += [QUICK_BANNER, ""]
    lines += [
        f"    {setup.command}",
        "",
        f"- data: {setup.data}",
        f"- network: {setup.model}",
        f"- training: {setup.recipe}",
        f"- seeds: {', '.join(map(str, setup.seeds))}; "
        f"trials: {len(results.rows)} completed, {len(results.failures)} failed, "
        f"{len(results.missing)} not run",
    ]
    warnings = setup.warnings + [f"{k}: {n}" for k in notes for n in notes[k]]
    if warnings:
        lines += ["", "## Warnings", ""] + [f"- {w}" for w in warnings]
    tests = comparisons(results)
    lines += [
        "",
        "## Results",
        "",
        "Mean ± standard deviation over seeds. Accuracies are final (last epoch);",
        "train accuracy is measured in inference mode after training, so the gap is",
        "the overfitting. Parameters and step time are also relative to the baseline",
        "(the same network without attention blocks).",
        *(START_NOTE if setup.fine_tuning else []),
        "",
        *_table(results, setup.fine_tuning),
        "",
        "## Is a difference more than seed noise?",
        "",
        "Seeds pair the runs (same data order, same initial backbone), so the test is",
        "paired: Student's t on the per-seed differences of the final validation",
        "accuracy, with their mean and its 95% confidence interval (in points).",
        "Welch's test, which ignores the pairing, is beside it. The verdict uses",
        f"Holm-adjusted p-values over the {len(tests)} comparison(s) of this report:",
        f"p < {ALPHA} after adjustment is a difference beyond seed noise, and the",
        f"chance of any false call in the report stays below {ALPHA:.0%}. Fewer than",
        f"{MIN_SEEDS} seeds give no verdict.",
        "",
        *_comparison_table(tests),
    ]
    if tests:
        lines += ["", "## The difference at each epoch", ""]
        lines += _epoch_table(results, tests)
    if plotted:
        lines += [
            "",
            "## Validation accuracy per epoch",
            "",
            "![validation accuracy per epoch](curves.png)",
            "",
            "## Accuracy against training-step time",
            "",
            "![accuracy against step time](speed.png)",
        ]
    if maps:
        lines += ["", "## Attention maps", ""]
        lines += [
            "Gates of the first seed's trained network on validation images: spatial",
            "gates over the image (one column per block, its own resolution), channel",
            "gates as strips (one cell per channel). 1 passes a feature, 0 blocks it.",
        ]
        for label, shown in maps.items():
            lines += ["", f"### {label}", ""]
            if shown.endswith(".png"):
                lines.append(f"![attention gates of {label}]({shown})")
                lines += [f"\n{note}" for note in notes.get(label, [])]
            else:
                lines.append(f"No maps: {shown}.")
    if results.failures or results.missing:
        lines += ["", "## Trials without results", ""]
        for failure in results.failures:
            lines.append(
                f"- {failure.pair.label} seed {failure.pair.seed}: failed: "
                f"{failure.exception} (traceback: {FAILURES_LOG})"
            )
        for pair in results.missing:
            lines.append(
                f"- {pair.label} seed {pair.seed}: not run yet (run the command again to "
                "train it)"
            )
    return "\n".join(lines) + "\n"


def _mean_std(values: list[float], digits: int = 3) -> str:
    values = [v for v in values if not math.isnan(v)]
    if not values:
        return "n/a"
    summary = summarize(values)
    if summary.n < 2:
        return f"{summary.mean:.{digits}f}"
    return f"{summary.mean:.{digits}f} ± {summary.std:.{digits}f}"


def _relative(value: float, base: float | None) -> str:
    if base is None or math.isnan(base) or math.isnan(value) or base == 0:
        return ""
    return f" ({value / base:.2f}×)"


def _table(results: Results, start: bool = False) -> list[str]:
    """The results table; with ``start``, the accuracy before training first."""
    first = "| at start " if start else ""
    lines = [
        f"| spec {first}| val accuracy | best val accuracy | train accuracy "
        "| train − val | params | step ms | seeds |",
        "|---|---|---|---|---|---|---|---|" + ("---|" if start else ""),
    ]
    base = results.rows_of(BASELINE)
    base_params = base[0].params if base else None
    base_ms = _finite_mean([r.step_ms for r in base])
    for label in results.labels:
        rows = results.rows_of(label)
        if not rows:
            empty = "| " * (6 if start else 5)
            lines.append(f"| {label} | no completed trial {empty}| 0 |")
            continue
        params = rows[0].params
        ms = [r.step_ms for r in rows]
        gap = [r.train_accuracy - r.val_accuracy for r in rows]
        relative_params = f" ({params / base_params:.2f}×)" if base_params else ""
        relative_ms = _relative(_finite_mean(ms), base_ms)
        before = (
            f"| {_mean_std([r.start_val_accuracy for r in rows])} " if start else ""
        )
        lines.append(
            f"| {label} {before}| {_mean_std([r.val_accuracy for r in rows])} "
            f"| {_mean_std([r.best_val_accuracy for r in rows])} "
            f"| {_mean_std([r.train_accuracy for r in rows])} "
            f"| {_mean_std(gap)} | {params:,}{relative_params} "
            f"| {_mean_std(ms, 1)}{relative_ms} | {len(rows)} |"
        )
    if any(math.isnan(r.step_ms) for r in results.rows):
        lines += [
            "",
            "Step time n/a: the trial had one training step, the first, which traces "
            "the graph and is not timed.",
        ]
    return lines


def _finite_mean(values: list[float]) -> float | None:
    finite = [v for v in values if not math.isnan(v)]
    return summarize(finite).mean if finite else None


def _p(value: float | None) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def _comparison_table(tests: list[Comparison]) -> list[str]:
    if not tests:
        return ["No two variants have completed trials to compare yet."]
    lines = [
        "| comparison | validation accuracy | difference (points) | 95% interval "
        "| paired p | Holm p | Welch p | seeds | verdict |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for t in tests:
        interval = (
            f"{100 * t.interval[0]:+.1f} to {100 * t.interval[1]:+.1f}"
            if t.interval
            else "–"
        )
        lines.append(
            f"| **{t.name}** vs {t.other} | {t.mean:.3f} vs {t.other_mean:.3f} "
            f"| {100 * t.difference:+.1f} | {interval} | {_p(t.paired_p)} "
            f"| {_p(t.adjusted_p)} | {_p(t.welch_p)} | {t.seeds} | {verdict(t)} |"
        )
    return lines


def _epoch_table(results: Results, tests: list[Comparison]) -> list[str]:
    """Per comparison, the mean over paired seeds of the difference in validation
    accuracy after each epoch: whether an answer holds for a shorter budget too."""
    curves = {
        label: {
            r.seed: r.curves.get("val_accuracy", {}) for r in results.rows_of(label)
        }
        for label in results.labels
    }
    epochs = sorted(
        set().union(*(set(c) for runs in curves.values() for c in runs.values()))
    )
    lines = [
        "Validation accuracy of the first minus the second, in points, after each",
        "epoch (mean over the seeds both completed). A difference that changes sign",
        "or size with the epochs depends on the training budget.",
        "",
        "| comparison | " + " | ".join(f"{e + 1}" for e in epochs) + " |",
        "|---|" + "---|" * len(epochs),
    ]
    for t in tests:
        cells = []
        for epoch in epochs:
            seeds = [
                s
                for s in curves[t.name]
                if s in curves[t.other]
                and epoch in curves[t.name][s]
                and epoch in curves[t.other][s]
            ]
            diffs = [
                curves[t.name][s][epoch] - curves[t.other][s][epoch] for s in seeds
            ]
            cells.append(f"{100 * np.mean(diffs):+.1f}" if diffs else "–")
        lines.append(f"| {t.name} vs {t.other} | " + " | ".join(cells) + " |")
    return lines
