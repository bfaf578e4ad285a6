"""``cbamgen verify``: run a spec's generated layer and check it against the reference.

It imports Keras (and through it a backend), as ``bench`` and ``compare`` do; the CLI
imports it only for those commands. Checks, per spec:

- the layer equals the NumPy reference in inference mode, on several input shapes, with
  every weight randomised (|y - ref| <= 1e-5 (|ref| + |x|), see :func:`excess`);
- one training step (``train_on_batch``) gives a finite loss and finite weights;
- a ``.keras`` save/load round trip gives identical outputs.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import reference
from .render import render_source
from .source_module import import_source
from .spec import Spec

TOLERANCE = 1e-5
CHANNELS = 24
SHAPES = ((2, 7, 9), (1, 1, 1), (3, 16, 16))  # (batch, height, width)


@dataclass
class Result:
    """One row of ``cbamgen verify``."""

    spec_path: str
    max_error: float = 0.0
    passed: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failures


def weight_name(variable, layer) -> str:
    """``'block/channel_hidden/kernel'`` -> ``'channel_hidden/kernel'``."""
    prefix = layer.name + "/"
    return (
        variable.path[len(prefix) :]
        if variable.path.startswith(prefix)
        else variable.path
    )


def named_weights(layer) -> dict[str, np.ndarray]:
    return {weight_name(v, layer): np.asarray(v.numpy()) for v in layer.weights}


def randomize_weights(layer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Give every weight a random value a wrong formula could not hide behind: gamma
    and batch-norm statistics included, never the initial zeros and ones."""
    for variable in layer.weights:
        name = weight_name(variable, layer)
        shape = tuple(variable.shape)
        if name.endswith("moving_variance"):
            value = rng.uniform(0.5, 2.0, shape)
        elif name == "gamma":
            value = rng.uniform(0.2, 0.9, shape)
        elif name.endswith("_p"):
            value = rng.uniform(1.5, 4.0, shape)
        elif name.endswith("_alpha_logit"):
            value = rng.normal(0.0, 1.0, shape)
        else:
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 4
            value = rng.normal(0.0, 1.0 / np.sqrt(max(fan_in, 1)), shape)
        variable.assign(value.astype(np.float32))
    return named_weights(layer)


def excess(y: np.ndarray, expected: np.ndarray, x: np.ndarray) -> float:
    """max |y - ref| / (|ref| + |x|): at most 1e-5 for a right layer in float32.

    Outputs are x times gates, and a gate is accurate to ~1e-6 absolute in float32 (a
    conv sums hundreds of terms); near a zero gate that is more than 1e-5 *relative*
    error of the output, so the input's magnitude enters the bound.
    """
    error = np.abs(y.astype(np.float64) - expected)
    scale = np.abs(expected) + np.abs(x) + 1e-30
    return float(np.max(error / scale))


def _input_shape(spec: Spec, batch: int, height: int, width: int) -> tuple[int, ...]:
    if spec.data_format == "channels_last":
        return (batch, height, width, CHANNELS)
    return (batch, CHANNELS, height, width)


def verify_spec(spec: Spec, spec_path: str = "spec.yaml", seed: int = 0) -> Result:
    """Run every check on ``spec``'s generated layer; never raises for a failed check."""
    try:
        return _verify(spec, spec_path, seed)
    except Exception as exc:  # a crash is a verification failure, reported as a row
        result = Result(spec_path)
        result.failures.append(f"crashed: {type(exc).__name__}: {str(exc)[:300]}")
        return result


def _verify(spec: Spec, spec_path: str, seed: int) -> Result:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import keras

    result = Result(spec_path)
    rng = np.random.default_rng(seed)
    module = import_source(render_source(spec, spec_path), label=spec.name)
    cls = getattr(module, spec.name)
    for batch, height, width in SHAPES:
        shape = _input_shape(spec, batch, height, width)
        layer = cls()
        layer.build(shape)
        weights = randomize_weights(layer, rng)
        x = rng.normal(0.0, 2.0, shape).astype(np.float32)
        error = excess(
            keras.ops.convert_to_numpy(layer(x, training=False)),
            reference.forward(spec, weights, x),
            x,
        )
        result.max_error = max(result.max_error, error)
        if not error <= TOLERANCE:
            result.failures.append(f"reference {shape}: error {error:.2e}")
    if not result.failures:
        result.passed.append("reference")
    _check_training_and_saving(keras, cls, spec, rng, result)
    return result


def _check_training_and_saving(keras, cls, spec: Spec, rng, result: Result) -> None:
    shape = _input_shape(spec, 4, 6, 6)
    inputs = keras.Input(shape[1:])
    model = keras.Model(inputs, cls(name="block")(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(0.0, 1.0, shape).astype(np.float32)
    loss = float(
        keras.ops.convert_to_numpy(model.train_on_batch(x, np.zeros(shape, np.float32)))
    )
    finite = np.isfinite(loss) and all(
        np.all(np.isfinite(w)) for w in model.get_weights()
    )
    (result.passed if finite else result.failures).append(
        "training step"
        if finite
        else f"training step: loss {loss}, or weights not finite"
    )
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "model.keras"
        model.save(path)
        restored = keras.saving.load_model(path)
    to_numpy = keras.ops.convert_to_numpy
    same = np.array_equal(to_numpy(model(x)), to_numpy(restored(x)))
    (result.passed if same else result.failures).append(
        ".keras round trip"
        if same
        else ".keras round trip: outputs differ after loading"
    )
