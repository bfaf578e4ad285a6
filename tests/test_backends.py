"""The keras3 output of every bundled spec runs on the JAX and PyTorch backends too:
'cbamgen verify' (reference equivalence, a compiled training step, a .keras round trip)
in a fresh process per backend."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.yaml"))


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
