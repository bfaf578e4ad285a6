"""Progress bars: one for the whole run (trials), one for the trial (training steps).

Shown on a terminal only: off when stderr is not a TTY or when ``CI=true``.
"""

from __future__ import annotations

import os
import sys

from tqdm import tqdm


def enabled() -> bool:
    return sys.stderr.isatty() and os.environ.get("CI", "").lower() != "true"


class Progress:
    def __init__(self, trials: int | None, show: bool | None = None):
        disable = not (enabled() if show is None else show)
        self.run_bar = tqdm(
            total=trials, desc="trials", unit="trial", position=0, disable=disable
        )
        self.trial_bar = tqdm(
            desc="trial", unit="step", position=1, leave=False, disable=disable
        )

    def trial_begins(self, name: str) -> None:
        self.trial_bar.set_description(name)

    def trial_ends(self) -> None:
        self.run_bar.update(1)

    def close(self) -> None:
        self.trial_bar.close()
        self.run_bar.close()
