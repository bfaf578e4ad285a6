"""The profile behind the stochastic-pooling numbers: what single operations cost on
the benchmark tensor (32, 56, 56, 64), next to a mean, in tf.function graph mode and
under XLA.

    python benchmarks/profile_ops.py

On CPU, TensorFlow's cumulative sum costs many times a reduction (so the samplers scan
only block sums and one block), its gather costs ~10 ns per scalar element (so rows are
gathered as slices where they are contiguous), Keras's take_along_axis transposes its
input, and under XLA keras.random.uniform costs more per number than the rest of the
sampler per region (so the uniforms are hashed from one draw).
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.dirname(__file__))

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from bench import compiled, generated_module, side_by_side  # noqa: E402
from keras import ops  # noqa: E402


def main() -> None:
    shape = (32, 56, 56, 64)
    pixels = 32 * 56 * 56
    x = tf.constant(np.random.default_rng(0).normal(size=shape), tf.float32)
    regions = tf.reshape(x, (32, 56 * 56, 64))
    blocks = tf.reshape(x, (pixels * 8, 8))  # each pixel's 64 channels as 8 blocks
    rows = tf.random.uniform((pixels,), 0, 8, dtype=tf.int32)
    starts = tf.range(pixels) * 8 + rows
    index = tf.random.uniform((32, 1, 64), 0, 56 * 56, dtype=tf.int32)
    # The generated module's hashed uniforms (any stochastic spec has them).
    module, _ = generated_module("specs/l2_stochastic.yaml")
    generator = keras.random.SeedGenerator(0)
    cases = {
        "mean over H*W (the avg pool)": lambda: ops.mean(regions, axis=1),
        "relu (one elementwise pass)": lambda: ops.relu(regions),
        "cumsum over H*W": lambda: ops.cumsum(regions, axis=1),
        "cumsum over C (last axis)": lambda: ops.cumsum(x, axis=-1),
        "cumsum within 8-element blocks (whole tensor)": lambda: ops.cumsum(
            blocks, axis=-1
        ),
        "Keras take_along_axis, one element per channel map": lambda: (
            ops.take_along_axis(regions, index, 1)
        ),
        "gather one 8-element block per pixel, as rows": lambda: ops.take(
            blocks, starts, axis=0
        ),
        "gather the same 8 elements per pixel one by one": lambda: ops.take(
            ops.reshape(x, (-1,)), starts[:, None] * 8 + tf.range(8)
        ),
        "keras.random.uniform, one per pixel": lambda: keras.random.uniform(
            (pixels, 1), seed=generator
        ),
        "hashed uniforms (generated _uniform), one per pixel": lambda: module._uniform(
            tf.zeros((pixels, 1)), generator
        ),
    }
    timed = {}
    for xla in (False, True):
        functions = {
            name: compiled(
                lambda _, f=f: tf.reduce_sum(tf.cast(f(), tf.float32)), xla=xla
            )
            for name, f in cases.items()
        }
        timed[xla] = side_by_side(functions, x, repeats=7, number=5)
    base = {xla: timed[xla]["mean over H*W (the avg pool)"] for xla in timed}
    print(f"Single ops on {shape}, CPU\n")
    print(
        "| op | graph ms | graph / mean | XLA ms | XLA / mean |\n|---|---|---|---|---|"
    )
    for name in cases:
        g, a = timed[False][name], timed[True][name]
        print(
            f"| {name} | {g:.2f} | {g / base[False]:.1f}x | {a:.2f} | "
            f"{a / base[True]:.1f}x |"
        )


if __name__ == "__main__":
    main()
