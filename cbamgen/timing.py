"""Timing layers side by side: what ``cbamgen bench`` and ``benchmarks/bench.py`` share.

Runs on Keras 3's TensorFlow backend (``tf.function``, with XLA on request). Every
number is a median over repeats taken after warm-up; the candidates of one comparison
are timed in turns, and the order rotates from one repeat to the next (A B C, B C A,
C A B, ...): whatever runs right after a large op finds the caches cold, and no
candidate may always be the one. Ratios from one run are what to read; a shared
machine moves absolute times.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def compiled(fn: Callable, xla: bool) -> Callable:
    import tensorflow as tf

    return tf.function(fn, jit_compile=xla, reduce_retracing=True)


def forward_fn(layer, training: bool = False) -> Callable:
    """x -> sum(layer(x)): one forward pass."""
    import tensorflow as tf

    def run(x):
        return tf.reduce_sum(layer(x, training=training))

    return run


def train_fn(layer, training: bool = True) -> Callable:
    """x -> a forward and backward pass: the gradients of sum(layer(x)) with respect to
    x and every trainable weight."""
    import tensorflow as tf

    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(layer(x, training=training))
        grads = tape.gradient(loss, [x, *layer.trainable_weights])
        return loss + tf.add_n([tf.reduce_sum(g) for g in grads])

    return run


def side_by_side(
    candidates: dict[str, Callable], x, repeats: int, number: int
) -> dict[str, float]:
    """Median milliseconds per call of each candidate, timed in turns."""
    samples = rounds(candidates, x, repeats, number)
    return {name: statistics.median(values) for name, values in samples.items()}


def rounds(
    candidates: dict[str, Callable], x, repeats: int, number: int
) -> dict[str, list[float]]:
    """Milliseconds per call of each candidate in each of ``repeats`` rounds (every
    candidate timed once per round, in a rotating order)."""
    for fn in candidates.values():
        fn(x).numpy()  # trace, compile, warm up
        fn(x).numpy()
    samples: dict[str, list[float]] = {name: [] for name in candidates}
    names = list(candidates)
    for repeat in range(repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:
            fn = candidates[name]
            start = time.perf_counter()
            for _ in range(number):
                result = fn(x)
            result.numpy()
            samples[name].append((time.perf_counter() - start) * 1000 / number)
    return samples
