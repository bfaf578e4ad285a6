"""Models saved with earlier generated layers load into today's files: the weight
names, the order of each layer's own variables and the config keys are a promise.

tests/fixtures/saved_before_redesign/ holds .keras files saved (with inputs and the
outputs they gave) before the one-template-tree redesign; see make.py there.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from cbamgen.loader import load_spec
from cbamgen.render import render_source

from .support import import_source

pytestmark = pytest.mark.keras

FIXTURES = Path(__file__).parent / "fixtures" / "saved_before_redesign"
STEMS = sorted(p.stem for p in FIXTURES.glob("*.keras"))


def todays_module(stem: str):
    spec_path = FIXTURES / f"{stem}.yaml"
    if not spec_path.exists():
        spec_path = Path("specs") / f"{stem}.yaml"
    return import_source(render_source(load_spec(spec_path), spec_path.as_posix()))


def test_every_bundled_spec_has_a_saved_model():
    assert {p.stem for p in Path("specs").glob("*.yaml")} <= set(STEMS)


@pytest.mark.parametrize("stem", STEMS)
def test_a_model_saved_before_loads_with_the_same_outputs(stem):
    todays_module(stem)  # registers today's class under its saved name
    model = keras.saving.load_model(FIXTURES / f"{stem}.keras")
    data = np.load(FIXTURES / f"{stem}.npz")
    y = keras.ops.convert_to_numpy(model(data["x"], training=False))
    # The same weights and formulas; pools may now run other (native) kernels, so
    # the last float32 bits may differ.
    np.testing.assert_allclose(y, data["y"], rtol=2e-6, atol=1e-6)
