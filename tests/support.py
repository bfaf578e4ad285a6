"""Helpers shared by the tests that run generated layers (one TensorFlow process)."""

from __future__ import annotations

from cbamgen.loader import load_spec_bytes
from cbamgen.render import render_source
from cbamgen.verify import (  # noqa: F401  (re-exported for the tests)
    import_source,
    named_weights,
    randomize_weights,
    weight_name,
)


def spec_from_yaml(text: str, name: str = "spec.yaml"):
    return load_spec_bytes(text.encode(), name)


def layer_for(spec, spec_path: str = "specs/test.yaml", **kwargs):
    module = import_source(render_source(spec, spec_path))
    return getattr(module, spec.name)(**kwargs)
