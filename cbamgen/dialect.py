"""The two Keras APIs a layer can be generated for, as dialects of one language.

The templates are written once. What differs in spelling between the targets is in the
op table below (``ops.mean`` / ``tf.reduce_mean``); the few things that differ in more
than spelling (building sublayers under name scopes for ``.h5`` files, random numbers,
the pooling ops' arguments, the hard sigmoid and hard swish) are macros in
``templates/dialects/<target>.py.j2``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

_KERAS3_OPS = (
    "abs add arange cast concatenate cumsum exp expand_dims log max maximum mean min "
    "minimum pad power relu reshape sigmoid silu sqrt square squeeze stack sum take "
    "tanh transpose where gelu clip ones_like zeros_like stop_gradient"
)

_TF_SPELLING = {
    "concatenate": "tf.concat",
    "cumsum": "tf.math.cumsum",
    "arange": "tf.range",
    "log": "tf.math.log",
    "max": "tf.reduce_max",
    "mean": "tf.reduce_mean",
    "min": "tf.reduce_min",
    "sum": "tf.reduce_sum",
    "power": "tf.pow",
    "relu": "tf.nn.relu",
    "silu": "tf.nn.silu",
    "gelu": "tf.nn.gelu",
    "take": "tf.gather",
    "clip": "tf.clip_by_value",
    "bitwise_and": "tf.bitwise.bitwise_and",
    "bitwise_xor": "tf.bitwise.bitwise_xor",
    "right_shift": "tf.bitwise.right_shift",
    "all": "tf.reduce_all",
    "any": "tf.reduce_any",
    "cond": "tf.cond",
    "shape": "_shape",  # static sizes where known, like ops.shape (see the dialect)
}
_MORE = (
    "bitwise_and",
    "bitwise_xor",
    "right_shift",
    "all",
    "any",
    "logical_and",
    "cond",
    "shape",
)


@dataclass(frozen=True)
class Dialect:
    """One target: its imports, its op spellings, and the name of its macro file."""

    name: str
    imports: tuple[str, ...]
    ops: Mapping[str, str]
    #: add_weight's keyword that keeps a weight in float32 under mixed precision.
    no_autocast: str

    @property
    def macros(self) -> str:
        return f"dialects/{self.name}.py.j2"


DIALECTS = {
    "keras3": Dialect(
        name="keras3",
        imports=("import keras", "from keras import ops"),
        ops={op: f"ops.{op}" for op in (*_KERAS3_OPS.split(), *_MORE)},
        no_autocast="autocast=False",
    ),
    "tf_keras": Dialect(
        name="tf_keras",
        imports=("import tensorflow as tf", "from tensorflow import keras"),
        ops={
            op: _TF_SPELLING.get(op, f"tf.{op}")
            for op in (*_KERAS3_OPS.split(), *_MORE)
        },
        no_autocast="experimental_autocast=False",
    ),
}


#: The targets a spec can name (the spec language and the command line read this).
TARGETS = tuple(DIALECTS)
