"""The variants a comparison trains: the baseline (no block) and one per spec.

Specs are loaded and rendered here without Keras, so a bad spec stops the command
before anything heavy is imported. The layer class is made from the rendered source
only in the processes that train.
"""

from __future__ import annotations

import hashlib
import inspect
import itertools
from dataclasses import dataclass
from pathlib import Path

from ..errors import SpecError
from .inputs import InputError

BASELINE = "baseline"


@dataclass(frozen=True)
class Variant:
    """``label`` names it in the report (the spec file's stem); ``digest`` changes
    with the rendered source, so an edited spec is trained again."""

    label: str
    source: str | None  # None for the baseline
    class_name: str | None
    digest: str

    def factory(self, seed: int):
        """A zero-argument factory of new layers (None for the baseline). Each layer
        with a ``seed`` argument gets its own seed, derived from ``seed``."""
        if self.source is None:
            return None
        from ..source_module import import_source

        cls = getattr(import_source(self.source, self.class_name), self.class_name)
        seeded = "seed" in inspect.signature(cls).parameters
        counter = itertools.count()

        def make():
            return cls(seed=seed * 1000 + next(counter)) if seeded else cls()

        make.layer_class = cls
        return make


def baseline() -> Variant:
    return Variant(BASELINE, None, None, "none")


def load_variants(paths: list[Path]) -> list[Variant]:
    """The baseline, then each spec, rendered for Keras 3, channels last (the networks'
    layout); every bad spec is reported at once."""
    from ..loader import load_spec
    from ..regenerate import display_path
    from ..render import render_source

    variants, reports = [baseline()], []
    for path in paths:
        shown = display_path(path)
        try:
            spec = load_spec(path, display_name=shown)
        except SpecError as exc:
            reports.append(exc.report())
            continue
        except OSError as exc:
            reports.append(f"{shown}: cannot read the spec: {exc.strerror or exc}")
            continue
        spec = spec.model_copy(
            update={"target": "keras3", "data_format": "channels_last"}
        )
        source = render_source(spec, shown)
        digest = hashlib.sha256(source.encode()).hexdigest()[:12]
        variants.append(Variant(path.stem, source, spec.name, digest))
    labels = [v.label for v in variants]
    for label in sorted({x for x in labels if labels.count(x) > 1}):
        reports.append(
            f"compare: two variants are named '{label}' (a spec's name here is its "
            "file's stem, and 'baseline' is the network without a block); rename one"
        )
    if reports:
        raise InputError(reports)
    return variants
