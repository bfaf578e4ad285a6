"""Trials on KerasTuner: an oracle that hands out (variant, seed) pairs, and a tuner
whose ``run_trial`` trains one pair.

KerasTuner keeps the record: each trial's values (``spec``, ``digest``, ``seed``) and
metrics are in ``trial_*/trial.json`` under the project directory, so a repeated
command reloads them and trains only the missing pairs; its distributed mode (a chief
and workers set by ``KERASTUNER_TUNER_ID``, ``KERASTUNER_ORACLE_IP``,
``KERASTUNER_ORACLE_PORT``) spreads the trials over processes or machines.

Every number a report needs travels through the oracle (over gRPC in distributed
mode): the final metrics, and the per-epoch curves as metrics named
``curve/<metric>/<epoch>`` (an oracle update must carry the objective, so curves cannot
be reported epoch by epoch). Only the attention maps, arrays, are files in the trial's
directory, which a multi-machine run must therefore share.
"""

from __future__ import annotations

import contextlib
import io
import os
import time
from dataclasses import dataclass
from pathlib import Path

import keras_tuner as kt
import numpy as np

from .train import Recipe, train

OBJECTIVE = "val_accuracy"
IDLE_POLL = 0.2  # seconds between a worker's requests while the oracle is IDLE
CURVE = "curve"
GATES_FILE = "attention.npz"
NOTE_FILE = "attention.txt"


@dataclass(frozen=True)
class Pair:
    label: str
    digest: str
    seed: int

    @property
    def values(self) -> dict:
        return {"spec": self.label, "digest": self.digest, "seed": self.seed}

    @classmethod
    def of(cls, trial) -> Pair:
        values = trial.hyperparameters.values
        return cls(values["spec"], values["digest"], int(values["seed"]))


def plan(variants, seeds: list[int]) -> list[Pair]:
    """Seed by seed, every variant: an interrupted run has compared all of them."""
    return [Pair(v.label, v.digest, seed) for seed in seeds for v in variants]


class PairOracle(kt.Oracle):
    """Hands out each planned pair not yet trained, in plan order. When none is left
    it answers IDLE while other tuners still train (a worker then asks again, see
    :meth:`CompareTuner.pre_create_trial`) and STOPPED once all are done, so that the
    workers stop together and KerasTuner's chief, which checks for the end every
    second but re-checks only every 20 s once a tuner has stopped, ends promptly.

    A pair counts as trained when a trial with its values completed, here or in an
    earlier run of the same project; a pair whose trial failed in an earlier run is
    tried again, once per run.
    """

    def __init__(self, pairs: list[Pair]):
        super().__init__(
            objective=kt.Objective(OBJECTIVE, "max"),
            hyperparameters=self._space(pairs),
            allow_new_entries=False,
            tune_new_entries=False,
            max_retries_per_trial=0,
            # Failures are reported per trial; they never stop the other trials.
            max_consecutive_failed_trials=len(pairs) + 1,
        )
        self.pairs = pairs
        self._handed: set[Pair] = set()

    @staticmethod
    def _space(pairs: list[Pair]) -> kt.HyperParameters:
        space = kt.HyperParameters()
        space.Choice("spec", list(dict.fromkeys(p.label for p in pairs)))
        space.Choice("digest", list(dict.fromkeys(p.digest for p in pairs)))
        space.Choice("seed", list(dict.fromkeys(p.seed for p in pairs)))
        return space

    def populate_space(self, trial_id):
        taken = self._handed | {
            Pair.of(t)
            for t in self.trials.values()
            if t.status != kt.engine.trial.TrialStatus.FAILED
        }
        for pair in self.pairs:
            if pair not in taken:
                self._handed.add(pair)
                return {"status": "RUNNING", "values": pair.values}
        return {"status": "IDLE" if self.ongoing_trials else "STOPPED", "values": None}

    def set_state(self, state):
        super().set_state(state)
        # This run's plan is the space, whatever the earlier runs planned.
        self.hyperparameters = self._space(self.pairs)

    def reload(self):
        super().reload()
        # Trials interrupted in an earlier run are retried only if still planned.
        planned = set(self.pairs)
        self._retry_queue = [
            trial_id
            for trial_id in self._retry_queue
            if Pair.of(self.trials[trial_id]) in planned
        ]


@dataclass
class Context:
    """What a trial needs besides its pair: the variants by label, the network
    builder, the data, the recipe and the progress display."""

    variants: dict
    builder: object
    data: object
    recipe: Recipe
    progress: object
    #: Where trained networks are saved (--save-models), or None.
    models: Path | None = None


class CompareTuner(kt.Tuner):
    def __init__(self, oracle: PairOracle, directory: Path, project: str, context):
        # KerasTuner prints "Reloading Tuner from ..."; the command says it its own way.
        with contextlib.redirect_stdout(io.StringIO()):
            super().__init__(
                oracle=oracle, directory=str(directory), project_name=project
            )
        self.context = context
        self.trained = 0
        self._waiting = False

    def pre_create_trial(self):
        # KerasTuner asks again at once after an IDLE answer; pause between requests.
        if self._waiting:
            time.sleep(IDLE_POLL)
        self._waiting = True

    def on_trial_begin(self, trial):
        self._waiting = False
        super().on_trial_begin(trial)
        pair = Pair.of(trial)
        self.context.progress.trial_begins(f"{pair.label} seed {pair.seed}")

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self.context.progress.trial_ends()

    def run_trial(self, trial, *args, **kwargs):
        pair = Pair.of(trial)
        variant = self.context.variants.get(pair.label)
        if variant is None or variant.digest != pair.digest:
            raise kt.errors.FailedTrialError(
                f"{pair.label}: this process has no such spec, or a different version "
                "of it; every process of a run needs the same spec files"
            )
        outcome = train(
            variant,
            pair.seed,
            self.context.builder,
            self.context.data,
            self.context.recipe,
            self.context.progress,
            self._model_path(pair),
        )
        self._save_gates(trial.trial_id, outcome)
        self.trained += 1
        curves = {
            f"{CURVE}/{name}/{epoch}": value
            for name, values in outcome.curves.items()
            for epoch, value in enumerate(values)
        }
        return {**outcome.metrics, **curves}

    def _model_path(self, pair: Pair) -> Path | None:
        if self.context.models is None:
            return None
        return self.context.models / f"{pair.label}-seed{pair.seed}.keras"

    def _save_gates(self, trial_id: str, outcome) -> None:
        folder = Path(self.get_trial_dir(trial_id))
        if outcome.gates:
            temp = folder / f".{GATES_FILE}.tmp.npz"
            np.savez_compressed(temp, **outcome.gates)
            os.replace(temp, folder / GATES_FILE)
        elif outcome.gates_note:
            (folder / NOTE_FILE).write_text(outcome.gates_note + "\n", encoding="utf-8")


def curves_of(trial) -> dict[str, dict[int, float]]:
    """``{"val_accuracy": {0: 0.41, 1: 0.63, ...}, ...}`` from a trial's metrics."""
    curves: dict[str, dict[int, float]] = {}
    for name in trial.metrics.metrics:
        if name.startswith(CURVE + "/"):
            _, metric, epoch = name.split("/")
            curves.setdefault(metric, {})[int(epoch)] = trial.metrics.get_last_value(
                name
            )
    return curves
