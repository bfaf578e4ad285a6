"""Helpers shared by the tests that run generated layers (one TensorFlow process)."""

from __future__ import annotations

import itertools
import sys
import types

import numpy as np

from cbamgen.loader import load_spec_bytes
from cbamgen.render import render_source

_counter = itertools.count()


def spec_from_yaml(text: str, name: str = "spec.yaml"):
    return load_spec_bytes(text.encode(), name)


def import_source(source: str, label: str = "generated") -> types.ModuleType:
    """Execute generated source as a fresh module (never cached, never on disk)."""
    name = f"_cbamgen_test_{label}_{next(_counter)}"
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module


def layer_for(spec, spec_path: str = "specs/test.yaml", **kwargs):
    module = import_source(render_source(spec, spec_path))
    return getattr(module, spec.name)(**kwargs)


def weight_name(variable, layer) -> str:
    """``'block/channel_hidden/kernel'`` -> ``'channel_hidden/kernel'``."""
    prefix = layer.name + "/"
    path = variable.path
    return path[len(prefix) :] if path.startswith(prefix) else path


def named_weights(layer) -> dict[str, np.ndarray]:
    return {weight_name(v, layer): np.asarray(v.numpy()) for v in layer.weights}


def randomize_weights(layer, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Give every weight a random value the tests can detect (no zeros, no ones)."""
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
