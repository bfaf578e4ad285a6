"""The keras3 output of the bundled specs runs on the JAX and PyTorch backends too:
'cbamgen verify' (reference equivalence, a compiled training step, a .keras round trip)
in a fresh process per backend; and the stochastic sampler's int32 hash and draw
frequencies are right there as well, as is insert_blocks."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.keras, pytest.mark.backends]

ROOT = Path(__file__).resolve().parent.parent
#: Bundled specs whose code a sibling already runs here (the same templates with
#: other numbers): timm_ge is se's MLP, timm_scoord timm_coord's, timm_strip timm_ela's.
SIBLINGS = {"timm_ge", "timm_scoord", "timm_strip"}
SPECS = sorted(
    str(p.relative_to(ROOT))
    for p in (ROOT / "specs").glob("*.yaml")
    if p.stem not in SIBLINGS
)


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_every_bundled_block_verifies_on_the_backend(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-m", "cbamgen", "verify", *SPECS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("specs/")]
    assert len(rows) == len(SPECS)
    assert all("ok: reference, training step, .keras round trip" in r for r in rows)


SAMPLER_CHECK = """
import numpy as np
import keras
from keras import ops
from cbamgen.render import render_source
from tests.support import assert_frequencies, import_source, lowbias32, spec_from_yaml

text = "cbamgen: 1\\nname: S\\nchannel: {pools: [stochastic]}\\nspatial: {pools: [stochastic]}\\n"
module = import_source(render_source(spec_from_yaml(text), "s.yaml"), "s")

# The int32 hash equals lowbias32 on unsigned words (products must wrap).
words = np.random.default_rng(0).integers(-(2**31), 2**31, size=500).astype(np.int32)
got = ops.convert_to_numpy(module._hash(ops.convert_to_tensor(words)))
assert [int(g) & 0xFFFFFFFF for g in got] == [lowbias32(int(w)) for w in words]

# Both samplers draw with the right frequencies.
values = np.array([-1.0, 0.5, 1.0, 1.5, 2.0, 0.25, 3.0], np.float32)
p = np.maximum(values, 0) / np.maximum(values, 0).sum()
draws = 20000
cases = {
    "axis": (module._stochastic_pool, values[None, None, :] * np.ones((1, draws, 1)), -1),
    "map": (module._stochastic_map_pool, values.reshape(1, 7, 1, 1) * np.ones((1, 1, 1, draws)), (1, 2)),
}
for name, (pool, x, axis) in cases.items():
    out = ops.convert_to_numpy(pool(ops.convert_to_tensor(x.astype(np.float32)), axis,
        training=True, seed_generator=keras.random.SeedGenerator(5)))
    assert_frequencies(out, values, p)
print("sampler ok")

# insert_blocks (cbamgen.insert) works on the backend: a gated block as the identity.
from cbamgen.insert import insert_blocks

gated = "cbamgen: 1\\nname: G\\nchannel: {}\\nspatial: {}\\ngamma: {mode: residual}\\n"
block = getattr(import_source(render_source(spec_from_yaml(gated), "g.yaml"), "g"), "G")
inputs = keras.Input((16, 16, 3))
stem = keras.layers.Conv2D(8, 3, padding="same", name="stem")(inputs)
branch = keras.layers.Conv2D(8, 3, padding="same", name="branch")(stem)
network = keras.Model(inputs, keras.layers.Add(name="unit_add")([stem, branch]))
inserted = insert_blocks(network, block, identity=True)
assert [layer.name for layer in inserted.layers if isinstance(layer, block)] == ["unit_g"]
x = np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype(np.float32)
error = np.abs(ops.convert_to_numpy(inserted(x)) - ops.convert_to_numpy(network(x)))
assert error.max() <= 1e-6, error.max()
print("insert_blocks ok")
"""


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_the_sampler_and_insert_blocks_run_right_on_the_backend(backend):
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "3"}
    result = subprocess.run(
        [sys.executable, "-c", SAMPLER_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    assert "sampler ok" in result.stdout
