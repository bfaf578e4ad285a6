"""``cbamgen bench``: what a block costs, before training with it.

Per spec: the parameters, the hidden width of its channel MLP (or coordinate
bottleneck) at the bench's shape,
and the milliseconds of a forward pass (inference) and of a forward and backward pass
(training mode), each also as a ratio to a 3x3 convolution with as many filters as
channels and to the bundled CBAM (specs/cbam.yaml), all timed side by side in one
process by :mod:`cbamgen.timing` (the benchmarks' code). Keras and TensorFlow are
imported only when it runs, as for ``verify`` and ``compare``.

Every candidate is timed once per round, in several rounds (``repeats``, at least 5).
A time is the median over rounds, and a ratio the median of the rounds' ratios (both
sides of a ratio timed moments apart, so a busy machine moves them together). The
spread is the interquartile range of the rounds over their median: large (above
``NOISY``) means the machine was busy and the numbers are rough.
"""

from __future__ import annotations

import inspect
import os
import statistics
from dataclasses import asdict, dataclass

from .spec import Spec

DEFAULT_SHAPE = (16, 32, 32, 64)
CONV = "conv3x3"
CBAM = "CBAM (bundled)"
DEFAULT_REPEATS, MIN_REPEATS = 7, 5
#: A spread above this (interquartile range over median) is flagged.
NOISY = 0.2
#: Hidden widths below this are flagged: a channel MLP that narrow can lose every
#: unit (all ReLUs dead) and leave a constant gate (see compare/gates.py).
NARROW = 4


@dataclass(frozen=True)
class Row:
    block: str
    params: int
    hidden: int | None  # the MLP's (or bottleneck's) hidden width at the bench's shape
    forward_ms: float
    train_ms: float
    forward_per_conv3x3: float
    train_per_conv3x3: float
    forward_per_cbam: float
    train_per_cbam: float
    forward_spread: float  # interquartile range / median over the rounds
    train_spread: float


def parse_shape(text: str) -> tuple[int, int, int, int]:
    """``"16,32,32,64"`` -> (16, 32, 32, 64); ValueError with the fix otherwise."""
    try:
        shape = tuple(int(part) for part in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 4 or min(shape) < 1:
        raise ValueError(
            f"--shape {text!r}: give batch,height,width,channels as four positive "
            "integers, e.g. --shape 16,32,32,64"
        )
    return shape  # type: ignore[return-value]


def bench(
    specs: list[tuple[str, Spec]],
    shape: tuple[int, int, int, int] = DEFAULT_SHAPE,
    xla: bool = False,
    repeats: int = DEFAULT_REPEATS,
    number: int = 3,
) -> list[Row]:
    """Time each spec's layer, a 3x3 conv and the bundled CBAM at ``shape`` (batch,
    height, width, channels; a channels_first block gets it transposed)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras
    import numpy as np

    from . import timing
    from .compare.gates import hidden_width
    from .loader import load_spec
    from .render import render_source, specs_dir
    from .source_module import import_source

    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            "cbamgen bench times with TensorFlow; run it with KERAS_BACKEND=tensorflow"
        )
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # many small functions get traced: no warnings
    cbam = load_spec(specs_dir() / "cbam.yaml")
    blocks = {CBAM: cbam, **{shown: spec for shown, spec in specs}}
    rng = np.random.default_rng(0)
    inputs, layers = {}, {}
    for name, spec in blocks.items():
        spec = spec.model_copy(update={"target": "keras3"})
        cls = getattr(import_source(render_source(spec, name)), spec.name)
        seeded = "seed" in inspect.signature(cls).parameters
        layer = cls(seed=0) if seeded else cls()
        layout = shape if spec.data_format == "channels_last" else _first(shape)
        inputs[name] = rng.normal(size=layout).astype("float32")
        layer.build(layout)
        layers[name] = layer
    conv = keras.layers.Conv2D(shape[-1], 3, padding="same")
    conv.build(shape)
    layers[CONV], inputs[CONV] = conv, inputs[CBAM]
    times = {}
    for make, key in ((timing.forward_fn, "forward"), (timing.train_fn, "train")):
        candidates = {
            name: _with_input(timing.compiled(make(layer), xla), inputs[name])
            for name, layer in layers.items()
        }
        times[key] = timing.rounds(candidates, None, repeats, number)
    rows = []
    for name in [*blocks, CONV]:
        forward, train = times["forward"], times["train"]
        rows.append(
            Row(
                name,
                int(sum(np.prod(w.shape) for w in layers[name].weights)),
                hidden_width(layers[name]) if name != CONV else None,
                statistics.median(forward[name]),
                statistics.median(train[name]),
                _ratio(forward[name], forward[CONV]),
                _ratio(train[name], train[CONV]),
                _ratio(forward[name], forward[CBAM]),
                _ratio(train[name], train[CBAM]),
                spread(forward[name]),
                spread(train[name]),
            )
        )
    return rows


def _ratio(times: list[float], reference: list[float]) -> float:
    """The median of the rounds' ratios."""
    return statistics.median(t / r for t, r in zip(times, reference, strict=True))


def spread(times: list[float]) -> float:
    """Interquartile range over median: 0.1 means the middle half of the rounds lay
    within 10% of the median's size."""
    low, _, high = statistics.quantiles(times, n=4, method="inclusive")
    return (high - low) / statistics.median(times)


def _first(shape):
    batch, height, width, channels = shape
    return (batch, channels, height, width)


def _with_input(fn, x):
    """A candidate for side_by_side that ignores its argument: each block has its own
    input (a channels_first block takes the transposed one)."""
    import tensorflow as tf

    tensor = tf.constant(x)
    return lambda _: fn(tensor)


def table(rows: list[Row], shape, xla: bool, repeats: int = DEFAULT_REPEATS) -> str:
    mode = "XLA" if xla else "graph mode (--xla for XLA)"
    lines = [
        f"shape {shape}, {mode}; medians of {repeats} rounds timed side by side, ± the "
        "rounds' spread (interquartile range / median). forward: inference; fwd+bwd: "
        "training mode, gradients of every weight and the input",
        "",
        "| block | params | hidden | forward ms | fwd+bwd ms | / conv3x3 (fwd, "
        "fwd+bwd) | / CBAM (fwd, fwd+bwd) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        hidden = "–" if r.hidden is None else f"{r.hidden}"
        lines.append(
            f"| {r.block} | {r.params:,} | {hidden} | {r.forward_ms:.2f} "
            f"± {100 * r.forward_spread:.0f}% | {r.train_ms:.2f} ± "
            f"{100 * r.train_spread:.0f}% | "
            f"{r.forward_per_conv3x3:.2f}x, {r.train_per_conv3x3:.2f}x | "
            f"{r.forward_per_cbam:.2f}x, {r.train_per_cbam:.2f}x |"
        )
    return "\n".join(lines) + "\n"


def warnings(rows: list[Row], shape) -> list[str]:
    """Narrow hidden layers, and timings too spread to trust."""
    found = [
        f"{r.block}: {r.hidden} hidden unit(s) at {shape[-1]} channels: a bottleneck "
        f"this narrow can lose every unit in training (all ReLUs dead) and leave a "
        f"gate that ignores the image; lower `reduction`, or set `min_hidden: "
        f"{NARROW}` or more"
        for r in rows
        if r.hidden is not None and r.hidden < NARROW
    ]
    noisy = [r.block for r in rows if max(r.forward_spread, r.train_spread) > NOISY]
    if noisy:
        found.append(
            f"timings of {', '.join(noisy)} varied by more than {NOISY:.0%} between "
            "rounds (a busy machine?): the numbers are rough; run again when the "
            "machine is idle, or with more --repeats"
        )
    return found


def as_json(rows: list[Row]) -> list[dict]:
    return [asdict(row) for row in rows]
