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


def curves(results: Results, path: Path) -> None:
    """Validation accuracy per epoch: the mean over seeds, and a band from the lowest
    to the highest seed."""
    figure = Figure(figsize=(7, 4.5), layout="constrained")
    axes = figure.add_subplot()
    for label in results.labels:
        runs = [row.curves.get("val_accuracy", {}) for row in results.rows_of(label)]
        if not runs:
            continue
        epochs = sorted(set.intersection(*(set(run) for run in runs)))
        values = np.array([[run[e] for e in epochs] for run in runs])
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
    for label in results.labels:
        rows = results.rows_of(label)
        if not rows:
            continue
        acc = summarize([row.val_accuracy for row in rows])
        ms = summarize([row.step_ms for row in rows])
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
