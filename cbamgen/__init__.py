"""cbamgen: render declarative attention-block specs into standalone Keras layers.

The Python API (none of it imports Keras, except :func:`verify_spec` when called)::

    from cbamgen import load_spec, render_spec, verify_spec

    spec = load_spec("specs/l2_stochastic.yaml")      # raises SpecError, located
    source = render_spec(spec, "specs/l2_stochastic.yaml")  # the generated module text
    result = verify_spec(spec)                          # result.ok, result.max_error
"""

from __future__ import annotations

__version__ = "0.1.0"
__all__ = ["SpecError", "load_spec", "render_spec", "verify_spec", "__version__"]

from .errors import SpecError


def __getattr__(name: str):
    # Imported on first use, so that 'cbamgen --help' does not load pydantic or black.
    if name == "load_spec":
        from .loader import load_spec

        return load_spec
    if name == "render_spec":
        from .render import render_source

        return render_source
    raise AttributeError(f"module 'cbamgen' has no attribute {name!r}")


def verify_spec(spec, spec_path: str = "spec.yaml", seed: int = 0):
    """Check ``spec``'s generated layer against the reference, a training step and a
    ``.keras`` round trip; returns a :class:`cbamgen.verify.Result`. Imports Keras."""
    from .verify import verify_spec as run

    return run(spec, spec_path, seed)
