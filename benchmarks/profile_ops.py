"""The profile behind the stochastic-pooling numbers: what single TensorFlow ops cost on
the benchmark tensor (32, 56, 56, 64), in tf.function graph mode, next to a mean.

    python benchmarks/profile_ops.py

On CPU, a cumulative sum over the whole tensor costs many times a reduction, and Keras's
take_along_axis transposes its input; the samplers are built around both facts.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench import side_by_side  # noqa: E402
from keras import ops  # noqa: E402


def main() -> None:
    x = tf.constant(np.random.default_rng(0).normal(size=(32, 56, 56, 64)), tf.float32)
    regions = tf.reshape(x, (32, 56 * 56, 64))
    index = tf.random.uniform((32, 1, 64), 0, 56 * 56, dtype=tf.int32)
    flat = tf.reshape(regions, (-1,))
    positions = (
        tf.range(32)[:, None, None] * 56 * 56 * 64
        + index * 64
        + tf.range(64)[None, None, :]
    )
    cases = {
        "mean over H*W (the avg pool)": lambda: ops.mean(
            regions, axis=1, keepdims=True
        ),
        "relu (one elementwise pass)": lambda: ops.relu(regions),
        "cumsum over H*W": lambda: ops.cumsum(regions, axis=1),
        "cumsum over C (last axis)": lambda: ops.cumsum(x, axis=-1),
        "keras take_along_axis over H*W": lambda: ops.take_along_axis(
            regions, index, 1
        ),
        "flat gather of the same elements": lambda: ops.take(flat, positions),
        "compare and count over H*W": lambda: ops.sum(
            ops.cast(regions <= 0.5, "int32"), axis=1, keepdims=True
        ),
    }
    functions = {
        name: tf.function(lambda _, f=f: tf.reduce_sum(tf.cast(f(), tf.float32)))
        for name, f in cases.items()
    }
    times = side_by_side(functions, x, repeats=7, number=5)
    base = times["mean over H*W (the avg pool)"]
    print("| op on (32, 56, 56, 64), graph mode | ms | / mean |\n|---|---|---|")
    for name, ms in times.items():
        print(f"| {name} | {ms:.2f} | {ms / base:.1f}x |")


if __name__ == "__main__":
    main()
