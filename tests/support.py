"""Helpers shared by the tests that run generated layers (one TensorFlow process)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cbamgen import header
from cbamgen.loader import load_spec_bytes
from cbamgen.render import render_source
from cbamgen.source_module import import_source
from cbamgen.verify import (  # noqa: F401  (re-exported for the tests)
    named_weights,
    randomize_weights,
    weight_name,
)


def layer_files(folder: Path) -> list[Path]:
    """The generated layers in ``folder``: files rendered from specs, not the helpers
    (insert_blocks.py) that commands write beside them."""
    return sorted(
        path
        for path in folder.glob("*.py")
        if header.read(path.read_text(encoding="utf-8"))[0].helper is None
    )


def spec_from_yaml(text: str, name: str = "spec.yaml"):
    return load_spec_bytes(text.encode(), name)


def layer_for(spec, spec_path: str = "specs/test.yaml", **kwargs):
    module = import_source(render_source(spec, spec_path))
    return getattr(module, spec.name)(**kwargs)


#: Chi-square quantiles at 0.999, by degrees of freedom.
CHI2_CRITICAL_P001 = {4: 18.467, 5: 20.515, 6: 22.458, 7: 24.322, 8: 26.124}


def assert_frequencies(out, values, probabilities) -> None:
    """Each element of `out` is one draw from `values`: never anything else, never a
    value of probability 0, and the counts fit `probabilities` (chi-square, p=0.001)."""
    out = np.asarray(out).reshape(-1)
    probabilities = np.asarray(probabilities)
    counts = np.array([np.sum(np.isclose(out, v)) for v in values])
    assert counts.sum() == out.size
    possible = probabilities > 0
    assert counts[~possible].sum() == 0  # zero-weight elements are never drawn
    expected = probabilities[possible] * out.size
    chi2 = float(((counts[possible] - expected) ** 2 / expected).sum())
    assert chi2 < CHI2_CRITICAL_P001[possible.sum() - 1], (counts, expected)


def lowbias32(word: int) -> int:
    """C. Wellons' lowbias32 in plain unsigned 32-bit arithmetic, to check the int32
    version the generated files use."""
    word &= 0xFFFFFFFF
    word ^= word >> 16
    word = (word * 0x7FEB352D) & 0xFFFFFFFF
    word ^= word >> 15
    word = (word * 0x846CA68B) & 0xFFFFFFFF
    return word ^ (word >> 16)
