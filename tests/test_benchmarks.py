"""The benchmark runs end to end (tiny shapes). No timing is asserted: shared machines
are noisy; the full run's ratios are in benchmarks/RESULTS.md and the README."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.keras

ROOT = Path(__file__).resolve().parent.parent


def test_benchmark_smoke_run_prints_every_table(tmp_path):
    out = tmp_path / "results.md"
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "bench.py"),
            "--smoke",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    text = out.read_text()
    for heading in (
        "Generated CBAM vs hand-written",
        "Each pool relative to `avg`",
        "Commands (whole process",
        "Window pools, keras3",
        "Window pools, tf_keras",
        "NewCBAM (3x3 window pools) against CBAM",
    ):
        assert heading in text
    assert text in result.stdout
    assert "| `stochastic` |" in text and "cbamgen --help" in text
    assert "| stochastic (softmax) |" in text and "`sampler: simple`" in text
