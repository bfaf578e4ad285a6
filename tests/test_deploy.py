"""Deploying generated layers (the README's "Deploying"): every bundled block, inside a
Keras model, exported with ``model.export(format="onnx")`` and run by onnxruntime, and
with ``format="litert"`` and run by the LiteRT interpreter (builtin ops only: it has no
Flex delegate), equals the NumPy reference; and with ``KERAS_BACKEND=torch`` a generated
layer inside a plain ``torch.nn.Module`` trains with ``torch.optim``.

The tf_keras files' TensorFlow Lite conversion on TensorFlow 2.5.3 is in
tests/test_tf_keras.py (it runs under that interpreter).
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import sys
from pathlib import Path

import keras
import numpy as np
import pytest

from cbamgen import reference
from cbamgen.loader import load_spec
from cbamgen.render import render_source
from cbamgen.verify import excess

from .support import import_source, randomize_weights, spec_from_yaml

pytestmark = [pytest.mark.keras, pytest.mark.deploy]

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = sorted((ROOT / "specs").glob("*.yaml"))
TOLERANCE = 1e-5
#: Beyond the bundled blocks: every window pool with a guarded exact path (the
#: reduce_all and reduce_any that TensorFlow 2.5's TFLite lacks in part).
WINDOWS = """
cbamgen: 1
name: Windows
channel: {pools: [avg, max], reduction: 2}
spatial: {pools: [{type: lse, window: 3}, {type: softpool, window: 3},
                  {type: stochastic, weights: softmax, window: 3},
                  {type: gem, window: 3}, {type: lp, p: 3, window: 3}]}
"""
GELU = "cbamgen: 1\nname: Gelu\nchannel: {activation: gelu, reduction: 2}\n"


def model_around(path: Path | str, rng):
    """A Keras model holding the block (a spec file, or a spec's text), its weights
    random, an input, the reference's output for that input, and the spec."""
    spec = load_spec(path) if isinstance(path, Path) else spec_from_yaml(path)
    cls = getattr(import_source(render_source(spec, "s.yaml")), spec.name)
    shape = (2, 9, 7, 16) if spec.data_format == "channels_last" else (2, 16, 9, 7)
    inputs = keras.Input(shape[1:], name="x")
    block = cls(name="block")
    model = keras.Model(inputs, block(inputs))
    weights = randomize_weights(block, rng)
    x = rng.normal(0.0, 1.0, shape).astype(np.float32)
    model(x)  # export needs a model that has been called
    return model, x, reference.forward(spec, weights, x), spec


def export(model, path: Path, format: str) -> None:
    with contextlib.redirect_stdout(io.StringIO()):  # the exporters narrate
        model.export(path, format=format, verbose=False)


def run_onnx(path: Path, x):
    import onnxruntime

    session = onnxruntime.InferenceSession(path)
    return session.run(None, {session.get_inputs()[0].name: x})[0]


def run_litert(path: Path, x):
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    given = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(given["index"], x.shape)
    interpreter.allocate_tensors()  # fails for Flex ops: this interpreter has none
    interpreter.set_tensor(given["index"], x)
    interpreter.invoke()
    return interpreter.get_tensor(interpreter.get_output_details()[0]["index"])


@pytest.mark.parametrize(
    "path", [*BUNDLED, WINDOWS], ids=[p.stem for p in BUNDLED] + ["windows"]
)
def test_every_bundled_block_exports_to_onnx_and_litert(path, tmp_path):
    model, x, expected, spec = model_around(path, np.random.default_rng(0))
    export(model, tmp_path / "block.onnx", "onnx")
    export(model, tmp_path / "block.tflite", "litert")
    onnx = run_onnx(tmp_path / "block.onnx", x)
    assert excess(onnx, expected, x, spec) <= TOLERANCE
    litert = run_litert(tmp_path / "block.tflite", x)
    assert excess(litert, expected, x, spec) <= TOLERANCE


def test_gelu_exports_to_litert_but_not_to_onnx(tmp_path):
    """tf2onnx has no conversion for the Erfc op of TensorFlow's exact gelu: the
    README says so. Should it gain one, this fails and the README is to change."""
    model, x, expected, _ = model_around(GELU, np.random.default_rng(0))
    export(model, tmp_path / "block.tflite", "litert")
    assert excess(run_litert(tmp_path / "block.tflite", x), expected, x) <= TOLERANCE
    with contextlib.redirect_stderr(io.StringIO()):
        export(model, tmp_path / "block.onnx", "onnx")
    with pytest.raises(Exception, match="Erfc"):
        run_onnx(tmp_path / "block.onnx", x)


TORCH_MODULE = """
import numpy as np
import torch
import keras
from cbamgen import reference
from cbamgen.loader import load_spec
from cbamgen.render import render_source
from tests.support import import_source, named_weights

assert keras.backend.backend() == "torch"
# Seeds Python, NumPy and torch, so Keras's initialisers draw the same weights too.
keras.utils.set_random_seed(0)


class Net(torch.nn.Module):
    # A plain PyTorch network, channels first, with a generated block inside.
    def __init__(self, block):
        super().__init__()
        # 64 channels: CBAM's MLP (reduction 16) gets 4 hidden units; with 16 it
        # would have one, which a ReLU can leave dead from the start.
        self.conv = torch.nn.Conv2d(3, 64, 3, padding=1)
        self.block = block
        self.head = torch.nn.Linear(64, 4)

    def forward(self, x):
        y = self.block(torch.relu(self.conv(x)))
        return self.head(y.mean(dim=(2, 3)))


for name in ("cbam", "l2_stochastic", "gem_cbam"):
    spec = load_spec(f"specs/{name}.yaml").model_copy(
        update={"data_format": "channels_first"}
    )
    cls = getattr(import_source(render_source(spec, "s.yaml")), spec.name)
    block = cls(seed=1) if name == "l2_stochastic" else cls()
    block.build((None, 64, 8, 8))
    net = Net(block)
    ours = {id(p) for p in block.parameters()}
    assert ours and ours <= {id(p) for p in net.parameters()}, "weights not registered"
    before = {k: v.copy() for k, v in named_weights(block).items()}
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01)
    # A task the network can learn in a few steps on any machine: each class
    # brightens its own input channel (class 3 none).
    labels = torch.arange(32) % 4
    x = torch.randn(32, 3, 8, 8)
    x[labels < 3, labels[labels < 3]] += 2.0
    losses = []
    net.train()
    for step in range(30):
        optimizer.zero_grad()
        loss = torch.nn.functional.cross_entropy(net(x), labels)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    after = named_weights(block)
    moved = sorted(k for k in after if not np.array_equal(after[k], before[k]))
    assert moved == sorted(after), f"{name}: weights that did not train: {set(after) - set(moved)}"
    assert losses[-1] < 0.5 * losses[0], (name, losses[0], losses[-1])
    # In inference the block is still the reference's function of its weights.
    net.eval()
    features = torch.relu(net.conv(x[:4])).detach()
    with torch.no_grad():
        y = block(features, training=False).cpu().numpy()
    expected = reference.forward(spec, named_weights(block), features.numpy())
    scale = np.abs(expected) + np.abs(features.numpy()) + 1e-30
    error = np.max(np.abs(y - expected) / scale)
    assert error <= 1e-5, (name, error)
    print(name, "ok", round(losses[0], 3), round(losses[-1], 3), f"{error:.1e}")
"""


@pytest.mark.backends
def test_a_generated_layer_trains_inside_a_torch_module():
    result = subprocess.run(
        [sys.executable, "-c", TORCH_MODULE],
        cwd=ROOT,
        env={**os.environ, "KERAS_BACKEND": "torch", "TF_CPP_MIN_LOG_LEVEL": "3"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert [line.split()[:2] for line in result.stdout.splitlines()] == [
        ["cbam", "ok"],
        ["l2_stochastic", "ok"],
        ["gem_cbam", "ok"],
    ]
