"""``report.md``, ``results.csv``, ``curves.csv`` and the plots they show.

The plots are written first, then the three text files together (staged, then
renamed): a failure leaves the previous report whole, never half a new one, and a
report never links a plot that is not there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..writer import write_all
from . import plots
from .results import Results, curves_csv, results_csv
from .stats import summarize, verdict

BASELINE = "baseline"


@dataclass(frozen=True)
class Setup:
    """What the report says about how the trials were run."""

    command: str
    data: str
    model: str
    recipe: str
    seeds: list[int]


def write(results: Results, setup: Setup, out: Path) -> list[Path]:
    """Write everything into ``out``; returns the files written."""
    written = []
    has_rows = bool(results.rows)
    if has_rows:
        plots.curves(results, out / "curves.png")
        plots.speed(results, out / "speed.png")
        written += [out / "curves.png", out / "speed.png"]
    maps = {}
    for label, source in results.maps.items():
        if isinstance(source, Path):
            path = out / f"attention_{label}.png"
            with np.load(source) as gates:
                plots.attention(label, dict(gates), path)
            maps[label] = path.name
            written.append(path)
        else:
            maps[label] = source
    texts = [
        (out / "results.csv", results_csv(results)),
        (out / "curves.csv", curves_csv(results)),
        (out / "report.md", markdown(results, setup, maps, has_rows)),
    ]
    write_all(texts)
    return written + [path for path, _ in texts]


def markdown(
    results: Results, setup: Setup, maps: dict[str, str], plotted: bool
) -> str:
    lines = [
        "# Attention blocks compared",
        "",
        f"    {setup.command}",
        "",
        f"- data: {setup.data}",
        f"- network: {setup.model}",
        f"- training: {setup.recipe}",
        f"- seeds: {', '.join(map(str, setup.seeds))}; "
        f"trials: {len(results.rows)} completed, {len(results.failures)} failed, "
        f"{len(results.missing)} not run",
        "",
        "## Results",
        "",
        "Mean ± standard deviation over seeds. Accuracies are final (last epoch);",
        "train accuracy is measured in inference mode after training, so the gap is",
        "the overfitting. Parameters and step time are also relative to the baseline",
        "(the same network without attention blocks).",
        "",
        *_table(results),
        "",
        "## Is a difference more than seed noise?",
        "",
        "Welch's t-test on the final validation accuracy over seeds (it does not assume",
        "equal spread); p < 0.05 is called a difference beyond seed noise. With many",
        "comparisons, expect about one in twenty to pass by chance.",
        "",
        *_comparisons(results),
    ]
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
            else:
                lines.append(f"No maps: {shown}.")
    if results.failures or results.missing:
        lines += ["", "## Trials without results", ""]
        for pair, message in results.failures:
            lines.append(f"- {pair.label} seed {pair.seed}: failed: {message}")
        for pair in results.missing:
            lines.append(
                f"- {pair.label} seed {pair.seed}: not run yet (run the command again to "
                "train it)"
            )
    return "\n".join(lines) + "\n"


def _mean_std(values: list[float], digits: int = 3) -> str:
    summary = summarize(values)
    if summary.n < 2:
        return f"{summary.mean:.{digits}f}"
    return f"{summary.mean:.{digits}f} ± {summary.std:.{digits}f}"


def _table(results: Results) -> list[str]:
    lines = [
        "| spec | val accuracy | best val accuracy | train accuracy | train − val "
        "| params | step ms | seeds |",
        "|---|---|---|---|---|---|---|---|",
    ]
    base = results.rows_of(BASELINE)
    base_params = base[0].params if base else None
    base_ms = summarize([r.step_ms for r in base]).mean if base else None
    for label in results.labels:
        rows = results.rows_of(label)
        if not rows:
            lines.append(f"| {label} | no completed trial | | | | | | 0 |")
            continue
        params = rows[0].params
        ms = [r.step_ms for r in rows]
        gap = [r.train_accuracy - r.val_accuracy for r in rows]
        relative_params = f" ({params / base_params:.2f}×)" if base_params else ""
        relative_ms = f" ({summarize(ms).mean / base_ms:.2f}×)" if base_ms else ""
        lines.append(
            f"| {label} | {_mean_std([r.val_accuracy for r in rows])} "
            f"| {_mean_std([r.best_val_accuracy for r in rows])} "
            f"| {_mean_std([r.train_accuracy for r in rows])} "
            f"| {_mean_std(gap)} | {params:,}{relative_params} "
            f"| {_mean_std(ms, 1)}{relative_ms} | {len(rows)} |"
        )
    return lines


def _comparisons(results: Results) -> list[str]:
    """Each spec against the baseline, and each later spec against the first."""
    accuracy = {
        label: [r.val_accuracy for r in results.rows_of(label)]
        for label in results.labels
    }
    specs = [label for label in results.labels if label != BASELINE]
    lines = []
    for label in specs:
        for reference in dict.fromkeys([BASELINE, specs[0]]):
            if label != reference and accuracy[label] and accuracy[reference]:
                lines.append(
                    "- "
                    + verdict(label, reference, accuracy[label], accuracy[reference])
                )
    return lines or ["No two variants have completed trials to compare yet."]
