"""The report's PNG plots, drawn with matplotlib's Agg backend (no display needed).

Each plot is written to a temporary file beside its target and renamed into place, so
a failure never leaves half a PNG.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..writer import temporary_beside
from .results import Results
from .stats import summarize


def save(figure: Figure, path: Path) -> None:
    handle, temp = temporary_beside(path, ".png")
    os.close(handle)
    try:
        figure.savefig(temp, dpi=100)
        os.replace(temp, path)
    finally:
        Path(temp).unlink(missing_ok=True)


#: The accuracy axes span at least this much: matplotlib would stretch 0.102 against
#: 0.109 (a one-epoch smoke test) over the whole height, as if it were a difference.
MIN_SPAN = 0.1


def accuracy_limits(values) -> tuple[float, float]:
    """The accuracy axis' limits: the data's range, widened to ``MIN_SPAN`` about its
    middle where narrower, kept within [0, 1] (with a margin)."""
    finite = [v for v in np.ravel(values) if np.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    margin = 0.05 * max(high - low, MIN_SPAN)
    low, high = low - margin, high + margin
    if high - low < MIN_SPAN + 2 * margin:
        middle = (low + high) / 2
        low, high = middle - MIN_SPAN / 2 - margin, middle + MIN_SPAN / 2 + margin
    shift = max(0.0, -margin - low) - max(0.0, high - 1 - margin)
    return low + shift, high + shift


def curves(results: Results, path: Path) -> None:
    """Validation accuracy per epoch: the mean over seeds, and a band from the lowest
    to the highest seed."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    shown = []
    for label in results.labels:
        runs = [row.curves.get("val_accuracy", {}) for row in results.rows_of(label)]
        if not runs:
            continue
        epochs = sorted(set.intersection(*(set(run) for run in runs)))
        values = np.array([[run[e] for e in epochs] for run in runs])
        shown.append(values.ravel())
        x = np.array(epochs) + 1
        (line,) = axes.plot(x, values.mean(axis=0), marker="o", ms=3, label=label)
        if len(runs) > 1:
            axes.fill_between(
                x,
                values.min(axis=0),
                values.max(axis=0),
                color=line.get_color(),
                alpha=0.15,
            )
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_ylim(*accuracy_limits(np.concatenate(shown) if shown else []))
    axes.set_xlabel("epoch")
    axes.set_ylabel("validation accuracy")
    axes.set_title(
        "Validation accuracy (mean over seeds; band: lowest to highest seed)"
    )
    axes.grid(alpha=0.3)
    axes.legend(fontsize="small")
    save(figure, path)


def speed(results: Results, path: Path) -> None:
    """Final validation accuracy against the median training-step time, each with
    one standard deviation over seeds as error bars."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_ylim(*accuracy_limits([row.val_accuracy for row in results.rows]))
    for label in results.labels:
        rows = results.rows_of(label)
        timed = [row.step_ms for row in rows if np.isfinite(row.step_ms)]
        if not rows or not timed:  # one-step trials are not timed
            continue
        acc = summarize([row.val_accuracy for row in rows])
        ms = summarize(timed)
        axes.errorbar(
            ms.mean,
            acc.mean,
            xerr=np.nan_to_num(ms.std),
            yerr=np.nan_to_num(acc.std),
            fmt="o",
            capsize=3,
            label=label,
        )
        axes.annotate(
            label,
            (ms.mean, acc.mean),
            textcoords="offset points",
            xytext=(5, 5),
            fontsize="small",
        )
    axes.set_xlabel("training step, median ms")
    axes.set_ylabel("final validation accuracy")
    axes.set_title("Accuracy against step time (error bars: one std over seeds)")
    axes.grid(alpha=0.3)
    save(figure, path)


def attention(label: str, gates: dict[str, np.ndarray], path: Path) -> None:
    """One row per validation image: the image, each block's spatial gate over it,
    then each block's channel gates as a strip (one cell per channel)."""
    images = gates["images"]
    blocks = sorted({key.split("_")[0] for key in gates if key.startswith("block")})
    spatial = [b for b in blocks if f"{b}_spatial" in gates]
    channel = [b for b in blocks if f"{b}_channel" in gates]
    columns = 1 + len(spatial) + len(channel)
    widths = [1] * (1 + len(spatial)) + [2] * len(channel)
    figure = Figure(
        figsize=(1.6 * sum(widths), 1.5 * len(images) + 0.6), layout="constrained"
    )
    grid = figure.add_gridspec(len(images), columns, width_ratios=widths)
    mappable = None
    for row, image in enumerate(images):
        shown = image[..., 0] if image.shape[-1] == 1 else image
        extent = (0, image.shape[1], image.shape[0], 0)
        axes = figure.add_subplot(grid[row, 0])
        axes.imshow(shown, cmap="gray", extent=extent)
        _title(axes, row, "image")
        for column, block in enumerate(spatial, 1):
            axes = figure.add_subplot(grid[row, column])
            axes.imshow(shown, cmap="gray", extent=extent)
            mappable = axes.imshow(
                gates[f"{block}_spatial"][row],
                cmap="magma",
                vmin=0,
                vmax=1,
                alpha=0.6,
                extent=extent,
            )
            _title(axes, row, f"{block} spatial")
        for column, block in enumerate(channel, 1 + len(spatial)):
            axes = figure.add_subplot(grid[row, column])
            mappable = axes.imshow(
                gates[f"{block}_channel"][row][None, :],
                cmap="magma",
                vmin=0,
                vmax=1,
                aspect="auto",
            )
            _title(axes, row, f"{block} channels")
    if mappable is not None:
        figure.colorbar(mappable, ax=figure.axes, shrink=0.6, label="gate")
    figure.suptitle(f"{label}: attention gates on validation images")
    save(figure, path)


def _title(axes, row: int, text: str) -> None:
    axes.set_xticks([])
    axes.set_yticks([])
    if row == 0:
        axes.set_title(text, fontsize="small")
