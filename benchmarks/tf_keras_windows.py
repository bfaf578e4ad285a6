"""The tf_keras target's window blocks against the same blocks written by hand with
tf.keras's AveragePooling2D / MaxPooling2D, forward+backward, graph mode and XLA, in
one process on tf-keras (run with TF_USE_LEGACY_KERAS=1; benchmarks/bench.py does).
Prints one JSON line: {mode: {candidate: milliseconds}}."""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow import keras  # noqa: E402

from cbamgen.catalogue import POOLS  # noqa: E402
from cbamgen.loader import load_spec_bytes  # noqa: E402
from cbamgen.render import render_source  # noqa: E402
from cbamgen.source_module import import_source  # noqa: E402
from cbamgen.timing import compiled, side_by_side, train_fn  # noqa: E402

tf.get_logger().setLevel("ERROR")


class HandWritten(keras.layers.Layer):
    def __init__(self, pooling, **kwargs):
        super().__init__(**kwargs)
        self.pool = pooling(3, strides=1, padding="same")
        self.conv = keras.layers.Conv2D(1, 7, padding="same", activation="sigmoid")

    def call(self, x, training=None):
        return x * self.conv(self.pool(x))


def block(pool):
    text = (
        f"cbamgen: 1\nname: W\ntarget: tf_keras\n"
        f"spatial: {{pools: [{{type: {pool}, window: 3}}], kernel_size: 7}}\n"
    )
    spec = load_spec_bytes(text.encode(), "w.yaml")
    cls = import_source(render_source(spec, "w.yaml"), "tfk").W
    return cls(seed=0) if pool == "stochastic" else cls()


def main():
    smoke = "--smoke" in sys.argv
    shape = (2, 8, 8, 4) if smoke else (16, 32, 32, 32)
    repeats, number = (1, 1) if smoke else (7, 3)
    x = tf.constant(np.random.default_rng(2).normal(size=shape), tf.float32)
    results = {}
    for xla in (False, True):
        candidates = {
            "hand-written avg": HandWritten(keras.layers.AveragePooling2D),
            "hand-written max": HandWritten(keras.layers.MaxPooling2D),
            **{kind: block(kind) for kind in (["max"] if smoke else POOLS)},
        }
        fns = {
            name: compiled(train_fn(layer), xla) for name, layer in candidates.items()
        }
        results["XLA" if xla else "graph"] = side_by_side(fns, x, repeats, number)
    results["version"] = {"tensorflow": tf.__version__, "keras": "tf-keras"}
    print(json.dumps(results))


if __name__ == "__main__":
    main()
