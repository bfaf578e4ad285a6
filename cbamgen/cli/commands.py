"""One function per command: what it does, given the parsed command line.

Each returns the exit code, or raises :class:`~.status.Failure` for a usage error; the
printing is :mod:`.show`'s. The loader (pydantic) and the renderer (jinja2, black) are
imported by the commands that use them, so that ``--help`` and ``--version`` start in a
few tens of milliseconds.
"""

from __future__ import annotations

import argparse
import json
import sys

from ..regenerate import display_path
from ..writer import refusal, write_all
from . import show
from .inputs import (
    all_specs,
    helpers,
    load_or_fail,
    needs_keras,
    render_all,
    settings,
)
from .status import DIFFERENT, OK, Failure


def render(args: argparse.Namespace) -> int:
    from ..regenerate import current, diff

    if args.check:
        return check(args)
    project = settings(args)
    items = render_all(all_specs(args.specs, project), project)
    items += helpers(args.specs, project)
    changed = [item for item in items if current(item.output) != item.source]
    if args.diff:
        for item in changed:
            sys.stdout.write(diff(item))
        return OK
    refusals = [r for item in changed if (r := refusal(item.output, args.force))]
    if refusals:
        raise Failure(refusals + ["cbamgen: nothing was written"])
    write_all([(item.output, item.source) for item in changed])
    show.rendered(items, changed)
    return OK


def check(args: argparse.Namespace) -> int:
    from ..regenerate import findings

    project = settings(args)
    items = render_all(all_specs(args.specs, project), project)
    items += helpers(args.specs, project)
    orphans_in = None if args.specs else project.output
    found = findings(items, orphans_in, project.root)
    return show.findings(found, len(items), show.repeated_options(args))


def insert_helper(args: argparse.Namespace) -> int:
    from ..insert_helper import rendered
    from ..regenerate import current

    project = settings(args)
    item = rendered(project.output, project.target or "keras3")
    if current(item.output) == item.source:
        show.rendered([item], [])
        return OK
    problem = refusal(item.output, args.force)
    if problem:
        raise Failure([problem, "cbamgen: nothing was written"])
    write_all([(item.output, item.source)])
    show.rendered([item], [item])
    return OK


def validate(args: argparse.Namespace) -> int:
    project = settings(args)
    for item in render_all(all_specs(args.specs, project), project):
        print(f"{display_path(item.spec_path)}: ok")
    return OK


def verify(args: argparse.Namespace) -> int:
    specs = [(display_path(p), load_or_fail(p)) for p in args.specs]
    keras2 = [shown for shown, spec in specs if spec.target != "keras3"]
    if keras2:
        raise Failure(
            [
                f"{shown}: verify runs Keras 3 layers (target keras3); a tf_keras "
                "layer needs TensorFlow's Keras 2 (see README, 'tf_keras')"
                for shown in keras2
            ]
        )
    needs_keras("verify")
    from ..verify import TOLERANCE, verify_spec

    status = OK
    show.verify_header(TOLERANCE)
    for shown, spec in specs:
        result = verify_spec(spec, shown)
        show.verify_row(shown, result)
        status = status if result.ok else DIFFERENT
    return status


def new(args: argparse.Namespace) -> int:
    from ..errors import SpecError
    from ..loader import load_spec_bytes
    from ..schema import json_schema
    from ..starter import SCHEMA_FILE, names, starter

    try:
        module, class_name = names(args.name)
    except ValueError as exc:
        raise Failure([f"cbamgen new: {exc}"]) from None
    folder = args.dir or settings(args).specs
    target = folder / f"{module}.yaml"
    if target.exists():
        raise Failure([f"{display_path(target)}: exists already; choose another name"])
    like = load_or_fail(args.like) if args.like else None
    text = starter(class_name, display_path(target), like, args.like)
    # The starter must itself be a valid spec: check before writing.
    try:
        load_spec_bytes(text.encode(), display_path(target))
    except SpecError as exc:
        raise Failure(
            [
                f"cbamgen new: '{class_name}' is not usable as a class name:\n{exc.report()}"
            ]
        ) from None
    files = [(target, text)]
    schema_file = folder / SCHEMA_FILE
    if not schema_file.exists():  # the starter's first line points editors to it
        files.append(
            (schema_file, json.dumps(json_schema(), indent=2, sort_keys=True) + "\n")
        )
    write_all(files)
    show.written(path for path, _ in files)
    print(f"edit {display_path(target)}, then: cbamgen render {display_path(target)}")
    return OK


def pools(args: argparse.Namespace) -> int:
    from .. import listing

    sys.stdout.write(listing.markdown() if args.markdown else listing.text())
    return OK


def blocks(args: argparse.Namespace) -> int:
    from .. import blocks_listing

    sys.stdout.write(
        blocks_listing.markdown() if args.markdown else blocks_listing.text()
    )
    return OK


def schema(args: argparse.Namespace) -> int:
    from ..schema import json_schema

    print(json.dumps(json_schema(), indent=2, sort_keys=True))
    return OK


def bench(args: argparse.Namespace) -> int:
    from .. import bench as costs

    specs = [(display_path(p), load_or_fail(p)) for p in args.specs]
    try:
        shape = costs.parse_shape(args.shape) if args.shape else costs.DEFAULT_SHAPE
    except ValueError as exc:
        raise Failure([f"cbamgen bench: {exc}"]) from None
    if args.repeats < costs.MIN_REPEATS:
        raise Failure(
            [
                f"cbamgen bench: --repeats {args.repeats}: give at least "
                f"{costs.MIN_REPEATS}, so that a spread can be told"
            ]
        )
    needs_keras("bench", tensorflow=True)
    try:
        rows = costs.bench(specs, shape, args.xla, args.repeats)
    except RuntimeError as exc:
        raise Failure([f"cbamgen bench: {exc}"]) from None
    if args.json:
        found = {
            "shape": shape,
            "xla": args.xla,
            "repeats": args.repeats,
            "rows": costs.as_json(rows),
        }
        print(json.dumps(found))
    else:
        sys.stdout.write(costs.table(rows, shape, args.xla, args.repeats))
    for warning in costs.warnings(rows, shape):
        print(f"warning: {warning}", file=sys.stderr)
    return OK


def compare(args: argparse.Namespace) -> int:
    # Only this command needs Keras, KerasTuner, matplotlib, scikit-learn and tqdm.
    try:
        from ..compare.command import Options, run
        from ..compare.inputs import InputError
    except ImportError as exc:
        raise Failure(
            [
                f"cbamgen compare: {exc}; install the extra: pip install "
                "'cbamgen[compare]' (it brings TensorFlow, KerasTuner and the rest)"
            ]
        ) from None
    options = Options(
        specs=args.specs,
        data=args.data,
        model=args.model,
        placement=args.placement,
        seeds=args.seeds,
        epochs=args.epochs,
        out=args.out,
        quick=args.quick,
        quiet=args.quiet,
        identity=args.identity,
        save_models=args.save_models,
    )
    try:
        return run(options)
    except InputError as exc:
        raise Failure(exc.messages) from None
