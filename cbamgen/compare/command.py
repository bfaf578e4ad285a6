"""``cbamgen compare``: check every input, run the trials, write the report.

Every input is checked before any training: the specs, the output folder, the
distributed-mode variables, the data, and that each variant's network takes the
images. Heavy libraries are imported only once the cheap checks have passed.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import sys
import tempfile
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from .blocks import load_variants
from .inputs import InputError

DEFAULT_SEEDS = 3
DEFAULT_EPOCHS = 12
BATCH_SIZE = 64
MODELS = "models"  # --save-models: OUT/models/LABEL-seedN.keras
LEARNING_RATE = 1e-3
#: --quick: one seed, one epoch, a slice of the data (a smoke test in well under a
#: minute on two CPU cores).
QUICK = {"seeds": 1, "epochs": 1, "train": 256, "val": 128}
ENV_ID, ENV_IP, ENV_PORT = (
    "KERASTUNER_TUNER_ID",
    "KERASTUNER_ORACLE_IP",
    "KERASTUNER_ORACLE_PORT",
)


@dataclass
class Options:
    """The command line, as parsed."""

    specs: list[Path]
    data: str = "digits"
    model: str = "resnet"
    placement: str | None = None
    seeds: int | None = None
    epochs: int | None = None
    out: Path = Path("compare")
    quick: bool = False
    quiet: bool = False
    #: Start every block as the identity (insert_blocks(..., identity=True)).
    identity: bool = False
    #: Save each trained network to OUT/models/LABEL-seedN.keras.
    save_models: bool = False
    limits: dict = field(default_factory=dict)

    def resolved(self) -> Options:
        """Defaults filled in: --quick's, then the command's."""
        preset = QUICK if self.quick else {}
        seeds = preset.get("seeds", DEFAULT_SEEDS) if self.seeds is None else self.seeds
        epochs = (
            preset.get("epochs", DEFAULT_EPOCHS) if self.epochs is None else self.epochs
        )
        for name, value in (("--seeds", seeds), ("--epochs", epochs)):
            if value < 1:
                raise InputError([f"{name} {value}: must be at least 1"])
        limits = {k: preset[k] for k in ("train", "val") if k in preset}
        return replace(self, seeds=seeds, epochs=epochs, limits=limits)

    def command_line(self) -> str:
        parts = ["cbamgen compare", *(p.as_posix() for p in self.specs)]
        parts += ["--data", self.data, "--model", self.model]
        if self.placement:
            parts += ["--placement", self.placement]
        parts += ["--identity"] if self.identity else []
        parts += ["--seeds", str(self.seeds), "--epochs", str(self.epochs)]
        parts += ["--out", self.out.as_posix()] + (["--quick"] if self.quick else [])
        parts += ["--save-models"] if self.save_models else []
        return " ".join(parts)

    @property
    def fine_tuning(self) -> bool:
        """Whether the networks start trained (a saved model) or the blocks start as
        the identity: then the accuracy before training is worth reporting."""
        return self.identity or self.model.endswith(".keras")


def run(options: Options) -> int:
    options = options.resolved()
    variants = load_variants(options.specs)
    out = check_writable(options.out)
    role = distributed_role()
    # TensorFlow's start-up chatter (CPU features, oneDNN) is not the user's business.
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    from .data import load_data
    from .models import get_builder

    builder = get_builder(options.model, options.placement, options.identity)
    data = load_data(options.data).limited(
        options.limits.get("train"), options.limits.get("val")
    )
    from .train import Recipe

    recipe = Recipe(options.epochs, BATCH_SIZE, LEARNING_RATE)
    check_networks(variants, builder, data)
    warnings = data_warnings(data)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    make_folder(out)  # every input is good: only now is anything written

    from .progress import Progress, mode
    from .trials import CompareTuner, Context, PairOracle, plan

    pairs = plan(variants, list(range(options.seeds)))
    oracle = PairOracle(pairs)
    oracle.verbose = 0
    project = fingerprint(options, data, builder, recipe)
    models = out / MODELS if options.save_models else None
    context = Context(
        {v.label: v for v in variants}, builder, data, recipe, None, models
    )
    tuner = CompareTuner(oracle, out / "trials", project, context)
    done_before = _completed(tuner.oracle, pairs) if role != "worker" else 0
    remaining = None if role == "worker" else len(pairs) - done_before
    shown = "off" if role == "chief" else mode(options.quiet)
    context.progress = Progress(remaining, recipe.steps(len(data.x_train)), shown)
    try:
        tuner.search()
    finally:
        context.progress.close()
    if role == "worker":
        print(
            f"{os.environ[ENV_ID]}: trained {tuner.trained} trial(s); the chief writes "
            "the report"
        )
        return 0
    return _report(
        tuner, pairs, options, data, recipe, out, done_before, role, warnings
    )


def _report(
    tuner, pairs, options, data, recipe, out, done_before, role, warnings
) -> int:
    from . import report
    from .results import collect

    results = collect(tuner.oracle.trials, pairs, Path(tuner.project_dir))
    setup = report.Setup(
        options.command_line(),
        _describe_data(options, data),
        _describe_model(options),
        f"{recipe.epochs} epoch(s), batch {recipe.batch_size}, Adam (learning rate "
        f"{recipe.learning_rate:g}, cosine decay to 0), sparse categorical cross-entropy",
        list(range(options.seeds)),
        options.quick,
        warnings,
        options.fine_tuning,
    )
    report.write(results, setup, out)
    if role == "chief":
        trained = f"the workers trained {len(results.rows) - done_before} new trial(s)"
    else:
        trained = f"trained {tuner.trained} new trial(s)"
    print(
        f"{trained}, reused {done_before}; wrote {out / 'report.md'}, "
        f"{out / 'results.csv'}, {out / 'curves.csv'}"
    )
    for label, source in results.maps.items():
        for note in _gate_notes(source):
            print(f"warning: {label}: {note}", file=sys.stderr)
    for failure in results.failures:
        print(
            f"{failure.pair.label} seed {failure.pair.seed}: trial failed: "
            f"{failure.exception} (traceback: {out / report.FAILURES_LOG})",
            file=sys.stderr,
        )
    return 1 if results.failures else 0


def _gate_notes(source) -> list[str]:
    import numpy as np

    from .gates import constant_gates

    if not isinstance(source, Path):
        return []
    with np.load(source) as stored:
        return constant_gates(dict(stored))


def _completed(oracle, pairs) -> int:
    from .trials import Pair

    done = {Pair.of(t) for t in oracle.trials.values() if t.status == "COMPLETED"}
    return sum(pair in done for pair in pairs)


def check_writable(out: Path) -> Path:
    """``out`` if it is, or can be made, a folder this process writes in; nothing is
    created (a refused run must not leave an empty folder behind)."""
    existing = next(p for p in (out, *out.absolute().parents) if p.exists())
    problem = None
    if not existing.is_dir():
        problem = f"{existing} is not a folder"
    elif not os.access(existing, os.W_OK | os.X_OK):
        problem = f"{existing} is not writable"
    if problem:
        raise InputError(
            [
                f"--out {out}: cannot write there ({problem}); choose a folder you can write"
            ]
        )
    return out


def make_folder(out: Path) -> None:
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as exc:
        raise InputError(
            [
                f"--out {out}: cannot write there ({exc.strerror or exc}); choose a "
                "folder you can write"
            ]
        ) from None


#: Fewer validation images of a class than this make its accuracy a coarse number.
MIN_VAL_PER_CLASS = 10


def data_warnings(data) -> list[str]:
    """What makes this data too small to tell blocks apart (it still runs)."""
    import numpy as np

    counts = np.bincount(data.y_val, minlength=data.classes)
    warnings = []
    absent = [str(c) for c in np.flatnonzero(counts == 0)]
    if absent:
        warnings.append(
            f"the validation split has no image of class {', '.join(absent)} (of "
            f"{data.classes}): those classes are not measured"
        )
    few = [str(c) for c in np.flatnonzero((counts > 0) & (counts < MIN_VAL_PER_CLASS))]
    if few:
        warnings.append(
            f"the validation split has fewer than {MIN_VAL_PER_CLASS} images of class "
            f"{', '.join(few)} ({len(data.y_val)} validation images in all, one image "
            f"= {100 / len(data.y_val):.1f} points of accuracy): differences between "
            "blocks will be mostly noise; use more data"
        )
    return warnings


def distributed_role() -> str:
    """``single``, or KerasTuner's distributed mode: ``chief`` or ``worker``."""
    if ENV_IP not in os.environ:
        return "single"
    missing = [name for name in (ENV_PORT, ENV_ID) if not os.environ.get(name)]
    if missing:
        raise InputError(
            [
                f"{ENV_IP} is set, so this is a distributed run, but {' and '.join(missing)} "
                f"is not; set {ENV_ID}=chief on one process and a unique {ENV_ID} (e.g. "
                f"tuner0) on each worker, and the same {ENV_PORT} everywhere"
            ]
        )
    return "chief" if "chief" in os.environ[ENV_ID] else "worker"


def check_networks(variants, builder, data) -> None:
    """Build each variant's network and run it on two training images: a network that
    cannot take the images fails here, before any training."""
    from ..insert import InsertError
    from .train import build

    problems = []
    sample = data.x_train[:2]
    for variant in variants:
        try:
            model, _ = build(variant, 0, builder, data)
            shape = tuple(model(sample, training=False).shape)
        except InsertError as exc:  # the blocks cannot go where --placement says
            problems.append(f"{variant.label}: {exc}")
            continue
        except Exception as exc:  # whatever Keras raises: the network cannot be built
            reason = " ".join(str(exc).strip().splitlines()[:3])
            problems.append(
                f"{variant.label}: the network cannot take images of shape "
                f"{data.input_shape} (from {data.name}): {type(exc).__name__}: {reason}"
            )
            continue
        if shape != (2, data.classes):
            problems.append(
                f"{variant.label}: the network's output has shape {shape}; it must be "
                f"(batch, {data.classes}): one softmax probability per class"
            )
    if problems:
        raise InputError(problems)


def fingerprint(options: Options, data, builder, recipe) -> str:
    """The KerasTuner project's name: it changes with anything that makes earlier
    trials incomparable (the data, the network, the training and the code of the
    modules that make them), not with the specs or seeds (each trial records its
    own)."""
    from . import data as data_module
    from . import train as train_module
    from .models import BUILT_IN, default_placement, inserts

    placement = options.placement
    if options.model in BUILT_IN:
        placement = placement or default_placement(options.model)
    function = getattr(builder, "func", builder)
    code = [data_module, train_module, inspect.getmodule(function)]
    if inserts(builder):
        code.append(_helper_source())
    key = {
        "data": data.fingerprint,
        "model": _model_key(options.model),
        "placement": placement,
        "identity": options.identity,
        "code": [_source_digest(module) for module in code],
        "recipe": asdict(recipe),
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:12]


def _model_key(model: str) -> str:
    """``--model`` as trials are keyed: a saved file by its content too."""
    if model.endswith(".keras") and Path(model).is_file():
        digest = hashlib.sha256(Path(model).read_bytes()).hexdigest()[:16]
        return f"{model}:{digest}"
    return model


def _helper_source():
    """insert_blocks' source, for the networks it fills (its own module is made at
    run time)."""
    from ..insert_helper import render_insert_helper

    return render_insert_helper("keras3")


def _source_digest(module) -> str:
    """The digest of a module's source, or of source text given as it is."""
    if isinstance(module, str):
        return hashlib.sha256(module.encode()).hexdigest()
    try:
        source = inspect.getsource(module)
    except (OSError, TypeError):  # e.g. a module made at run time
        source = repr(module)
    return hashlib.sha256(source.encode()).hexdigest()


def _describe_data(options: Options, data) -> str:
    h, w, c = data.input_shape
    return (
        f"{options.data}: {len(data.x_train)} training / {len(data.x_val)} validation "
        f"images of {h}×{w}×{c}, {data.classes} classes"
    )


def _describe_model(options: Options) -> str:
    from .models import APPLICATIONS, BUILT_IN, default_placement

    if options.model not in BUILT_IN and not (
        options.model.startswith(APPLICATIONS) or options.model.endswith(".keras")
    ):
        return f"{options.model} (the user's builder places the blocks)"
    placement = options.placement or default_placement(options.model) or "residual"
    where = {
        "residual": "a block on each residual branch, before the addition (as in CBAM)",
        "after_conv": "a block after every conv stage",
    }.get(placement, f"a block after every layer matching {placement[6:]}")
    if options.model.startswith(APPLICATIONS):
        network = f"{options.model} (weights=None: untrained; input and classes from the data)"
    elif options.model.endswith(".keras"):
        network = f"{options.model} (trained, loaded for every trial)"
    else:
        network = options.model
    start = (
        "; each block starts as the identity (gamma = 0)" if options.identity else ""
    )
    return f"{network}, {where}{start}"
