"""One training run: a variant's network, one seed, from scratch.

What makes runs comparable across variants for the same seed:

- the data order: batch k of epoch e holds the same examples for every variant (a
  permutation drawn from ``(seed, epoch)``);
- the initial weights: the baseline network is built first under the seed and every
  backbone layer of the variant's network (same name, same shapes) starts from its
  weights; only the attention layers' own weights differ;
- Keras, NumPy and Python seeded with ``seed`` before anything is built.

Imports Keras: only trial-running processes load this module.
"""

from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from .attention import collect_gates
from .data import Dataset

# Every trial builds and traces a new model: TensorFlow's warnings that functions were
# retraced are expected here, and would scroll the progress away.
logging.getLogger("tensorflow").setLevel(logging.ERROR)

#: Validation images whose attention maps are kept.
MAP_IMAGES = 6


@dataclass(frozen=True)
class Recipe:
    """How every variant is trained (the same for all)."""

    epochs: int
    batch_size: int
    learning_rate: float

    def steps(self, examples: int) -> int:
        """Training steps of one run on ``examples`` images."""
        return -(-examples // self.batch_size) * self.epochs


@dataclass
class Outcome:
    metrics: dict[str, float]
    curves: dict[str, list[float]]  # per-epoch fit logs: loss, accuracy, val_...
    gates: dict[str, np.ndarray] = field(default_factory=dict)
    gates_note: str | None = None


class EpochOrder(keras.utils.PyDataset):
    """Training batches in an order fixed by ``(seed, epoch)``."""

    def __init__(self, x, y, batch_size: int, seed: int):
        super().__init__()
        self.x, self.y, self.batch_size, self.seed = x, y, batch_size, seed
        self.epoch = 0
        self._shuffle()

    def _shuffle(self):
        rng = np.random.default_rng([self.seed, self.epoch])
        self.order = rng.permutation(len(self.x))

    def __len__(self):
        return -(-len(self.x) // self.batch_size)

    def __getitem__(self, index):
        batch = self.order[index * self.batch_size : (index + 1) * self.batch_size]
        return self.x[batch], self.y[batch]

    def on_epoch_end(self):
        self.epoch += 1
        self._shuffle()


class StepTimer(keras.callbacks.Callback):
    """Wall time of each training step, the very first (tracing) excluded."""

    def __init__(self):
        super().__init__()
        self.times: list[float] = []
        self._start = 0.0
        self._first = True

    def on_train_batch_begin(self, batch, logs=None):
        self._start = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        if not self._first:
            self.times.append(time.perf_counter() - self._start)
        self._first = False

    @property
    def median_ms(self) -> float:
        return float(np.median(self.times) * 1000) if self.times else float("nan")


class ShowProgress(keras.callbacks.Callback):
    """Tells the progress display (``progress.Progress``) of each step and epoch."""

    def __init__(self, progress, epochs: int):
        super().__init__()
        self.progress, self.epochs = progress, epochs

    def on_epoch_begin(self, epoch, logs=None):
        self.progress.epoch_begins(epoch, self.epochs)

    def on_train_batch_end(self, batch, logs=None):
        self.progress.step((logs or {}).get("loss"))

    def on_epoch_end(self, epoch, logs=None):
        self.progress.epoch_ends(epoch, self.epochs, logs or {})


def build(variant, seed: int, builder, data: Dataset):
    """The variant's network with the baseline's initial weights in its backbone."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    reference = builder(None, data.input_shape, data.classes)
    initial = {layer.name: layer.get_weights() for layer in reference.layers}
    if variant.source is None:
        return reference, None
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    factory = variant.factory(seed)
    model = builder(factory, data.input_shape, data.classes)
    for layer in model.layers:
        weights = initial.get(layer.name)
        current = layer.get_weights()
        if weights and [w.shape for w in weights] == [w.shape for w in current]:
            layer.set_weights(weights)
    return model, factory


def train(
    variant,
    seed: int,
    builder,
    data: Dataset,
    recipe: Recipe,
    progress,
    save_to: Path | None = None,
) -> Outcome:
    """Train one (variant, seed); with ``save_to``, save the trained network there."""
    model, factory = build(variant, seed, builder, data)
    order = EpochOrder(data.x_train, data.y_train, recipe.batch_size, seed)
    # Decaying to zero settles the weights, so the final accuracy is not one sample
    # of an epoch-to-epoch wobble.
    schedule = keras.optimizers.schedules.CosineDecay(
        recipe.learning_rate, decay_steps=len(order) * recipe.epochs
    )
    model.compile(
        optimizer=keras.optimizers.Adam(schedule),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    # Before any step: a trained network's accuracy, kept by blocks that start as
    # the identity (chance for a network trained from scratch).
    _, start_accuracy = model.evaluate(
        data.x_val, data.y_val, batch_size=recipe.batch_size, verbose=0
    )
    timer = StepTimer()
    history = model.fit(
        order,
        epochs=recipe.epochs,
        validation_data=(data.x_val, data.y_val),
        validation_batch_size=recipe.batch_size,
        callbacks=[timer, ShowProgress(progress, recipe.epochs)],
        verbose=0,
    )
    curves = {
        name: [float(v) for v in values] for name, values in history.history.items()
    }
    _, train_accuracy = model.evaluate(
        data.x_train, data.y_train, batch_size=recipe.batch_size, verbose=0
    )
    metrics = {
        "val_accuracy": curves["val_accuracy"][-1],
        "best_val_accuracy": max(curves["val_accuracy"]),
        "train_accuracy": float(train_accuracy),
        "params": float(model.count_params()),
        "start_val_accuracy": float(start_accuracy),
    }
    if timer.times:  # a run of one step has none (the first, tracing, is not timed)
        metrics["step_ms"] = timer.median_ms
    if save_to is not None:
        save(model, save_to)
    outcome = Outcome(metrics, curves)
    if factory is not None:
        outcome.gates, outcome.gates_note = collect_gates(
            model, factory.layer_class, data.x_val[:MAP_IMAGES]
        )
    return outcome


def save(model, path: Path) -> None:
    """``model.save(path)`` through a temporary file: never half a file at ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.stem}.tmp.keras")
    try:
        model.save(temp)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)
