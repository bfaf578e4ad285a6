"""What a running comparison shows: trial k of n, the epoch, the loss, and the time left.

On a terminal, one tqdm bar over every training step of the run (so its estimate of the
time left covers all trials), described by the trial and epoch, the loss beside it.
Elsewhere (a pipe, a log file) a line per epoch, with the estimate. Nothing under
``--quiet`` or with ``CI=true``. All of it goes to stderr: stdout keeps the results.
"""

from __future__ import annotations

import os
import sys
import time

from tqdm import tqdm


def mode(quiet: bool = False) -> str:
    """``bars`` on a terminal, ``lines`` elsewhere, ``off`` when quiet or in CI."""
    if quiet or os.environ.get("CI", "").lower() == "true":
        return "off"
    return "bars" if sys.stderr.isatty() else "lines"


def _time_left(seconds: float) -> str:
    minutes = round(seconds / 60)
    return f"about {minutes} min left" if minutes >= 1 else "under a minute left"


class Progress:
    """``trials``: how many this process will train (None: unknown, a worker);
    ``steps``: training steps per trial."""

    def __init__(self, trials: int | None, steps: int, shown: str = "bars"):
        self.trials, self.steps, self.shown = trials, steps, shown
        self.trial = 0
        self.name = ""
        self.done = 0  # steps trained by this process
        self.skipped = 0  # steps of trials that failed before their end
        self.start = time.monotonic()
        total = trials * steps if trials is not None else None
        self.bar = tqdm(
            total=total, unit="step", disable=shown != "bars", dynamic_ncols=True
        )

    def _of(self) -> str:
        return (
            f"{self.trial}/{self.trials}"
            if self.trials is not None
            else f"{self.trial}"
        )

    def trial_begins(self, name: str) -> None:
        self.trial += 1
        self.name = name
        self.bar.set_description(f"trial {self._of()} {name}")
        if self.shown == "lines":
            print(f"trial {self._of()}: {name}", file=sys.stderr, flush=True)

    def step(self, loss: float | None) -> None:
        self.done += 1
        self.bar.update(1)
        if loss is not None:
            self.bar.set_postfix_str(f"loss {loss:.3f}", refresh=False)

    def epoch_begins(self, epoch: int, epochs: int) -> None:
        self.bar.set_description(
            f"trial {self._of()} {self.name}, epoch {epoch + 1}/{epochs}"
        )

    def epoch_ends(self, epoch: int, epochs: int, logs: dict) -> None:
        if self.shown != "lines":
            return
        parts = [f"epoch {epoch + 1}/{epochs}"]
        parts += [
            f"{key.replace('_', ' ')} {logs[key]:.3f}"
            for key in ("loss", "val_accuracy")
            if key in logs
        ]
        left = self.left()
        if left is not None:
            parts.append(_time_left(left))
        print(f"  {self.name}: {', '.join(parts)}", file=sys.stderr, flush=True)

    def left(self) -> float | None:
        """Seconds left in this process's run, from its pace so far."""
        if self.trials is None or not self.done:
            return None
        elapsed = time.monotonic() - self.start
        left = self.trials * self.steps - self.done - self.skipped
        return elapsed / self.done * max(left, 0)

    def trial_ends(self) -> None:
        """A trial that failed early leaves its steps: skip them."""
        skip = self.trial * self.steps - self.done - self.skipped
        if skip > 0:
            self.skipped += skip
            self.bar.update(skip)

    def close(self) -> None:
        self.bar.close()
