"""The command line's grammar: one function per command declares its arguments and
names the function of :mod:`.commands` that runs it."""

from __future__ import annotations

import argparse
from pathlib import Path

from .. import __version__
from ..dialect import TARGETS
from . import commands


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="cbamgen",
        description="Render YAML attention-block specs into standalone Keras layers.",
        epilog="Exit codes: 0 ok; 1 generated files differ, a verification failed or "
        "a trial failed; 2 usage error, invalid spec, or a file that cannot be written.",
    )
    main.add_argument("--version", action="version", version=f"cbamgen {__version__}")
    subparsers = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for declare in (
        _render,
        _check,
        _insert_helper,
        _validate,
        _verify,
        _new,
        _pools,
        _blocks,
        _schema,
        _bench,
        _compare,
    ):
        declare(subparsers)
    return main


def _command(subparsers, name: str, handler, summary: str, specs: str | None = "+"):
    """A sub-command run by ``handler``, taking SPEC files unless ``specs`` is None
    (else it is their argparse ``nargs``)."""
    sub = subparsers.add_parser(name, help=summary, description=summary)
    if specs:
        sub.add_argument("specs", nargs=specs, type=Path, metavar="SPEC")
    sub.set_defaults(handler=handler)
    return sub


def _output_options(sub) -> None:
    sub.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="directory of generated files (default: [tool.cbamgen] output in "
        "pyproject.toml, else generated)",
    )
    sub.add_argument(
        "--target",
        choices=TARGETS,
        help="render for this target instead of the spec's own or the project's "
        "(e.g. -o generated/tf_keras --target tf_keras)",
    )


def _render(subparsers) -> None:
    sub = _command(
        subparsers,
        "render",
        commands.render,
        "write DIR/NAME.py for each NAME.yaml (default: every spec in the project's "
        "specs folder), all or nothing, atomically; a file already up to date is "
        "left alone",
        "*",
    )
    _output_options(sub)
    mode = sub.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff if a file is stale",
    )
    mode.add_argument(
        "--diff", action="store_true", help="write nothing; print what would change"
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="overwrite files without our header or edited by hand",
    )


def _check(subparsers) -> None:
    summary = (
        "exit 1 with a diff if generated files are stale, missing or orphaned "
        "(default: every spec in the project's specs folder); never writes"
    )
    _output_options(_command(subparsers, "check", commands.check, summary, "*"))


def _insert_helper(subparsers) -> None:
    sub = _command(
        subparsers,
        "insert-helper",
        commands.insert_helper,
        "write DIR/insert_blocks.py: insert_blocks(model, block, at='residual', "
        "identity=False) puts generated blocks into an existing Keras model, keeping "
        "its weights (docs/insert.md)",
        specs=None,
    )
    sub.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="DIR",
        help="where to write it (default: [tool.cbamgen] output in pyproject.toml, "
        "else generated)",
    )
    sub.add_argument(
        "--target",
        choices=TARGETS,
        help="keras3 (default) or tf_keras (Keras 2: TensorFlow 2.5 - 2.15, tf-keras)",
    )
    sub.add_argument(
        "--force",
        action="store_true",
        help="overwrite a file without our header or edited by hand",
    )


def _validate(subparsers) -> None:
    summary = (
        "check specs and that they render (default: every spec in the project's "
        "specs folder); write nothing"
    )
    _output_options(_command(subparsers, "validate", commands.validate, summary, "*"))


def _verify(subparsers) -> None:
    _command(
        subparsers,
        "verify",
        commands.verify,
        "run each spec's layer: reference equivalence, a training step, a .keras "
        "round trip (imports Keras)",
    )


def _new(subparsers) -> None:
    sub = _command(
        subparsers,
        "new",
        commands.new,
        "write a commented starter spec DIR/NAME.yaml (and the JSON Schema editors "
        "use, if missing)",
        specs=None,
    )
    sub.add_argument(
        "name",
        metavar="NAME",
        help="module name (my_block) or class name (MyBlock); the other is derived",
    )
    sub.add_argument("--like", type=Path, metavar="SPEC", help="start from this spec")
    sub.add_argument(
        "-d",
        "--dir",
        type=Path,
        metavar="DIR",
        help="where to write it (default: [tool.cbamgen] specs in pyproject.toml, "
        "else specs)",
    )


def _pools(subparsers) -> None:
    sub = _command(
        subparsers,
        "pools",
        commands.pools,
        "list every pool: formula, parameters, training behaviour, source",
        specs=None,
    )
    sub.add_argument("--markdown", action="store_true", help="as the docs' table")


def _blocks(subparsers) -> None:
    blocks = _command(
        subparsers,
        "blocks",
        commands.blocks,
        "list the branch kinds with their keys and excitations, the fusions, the "
        "gamma modes, gates and activations",
        specs=None,
    )
    blocks.add_argument("--markdown", action="store_true", help="as the docs' tables")


def _schema(subparsers) -> None:
    summary = "print the spec language's JSON Schema"
    _command(subparsers, "schema", commands.schema, summary, specs=None)


def _bench(subparsers) -> None:
    sub = _command(
        subparsers,
        "bench",
        commands.bench,
        "time each spec's block (forward, forward+backward) against a 3x3 conv and "
        "the bundled CBAM, side by side (imports Keras)",
    )
    sub.add_argument(
        "--shape",
        metavar="B,H,W,C",
        help="input shape, channels last (default: 16,32,32,64)",
    )
    sub.add_argument("--xla", action="store_true", help="compile with XLA")
    sub.add_argument(
        "--repeats",
        type=int,
        default=7,
        metavar="N",
        help="rounds of timing, at least 5; medians and spreads over them (default: 7)",
    )
    sub.add_argument("--json", action="store_true", help="print JSON, not a table")


def _compare(subparsers) -> None:
    sub = _command(
        subparsers,
        "compare",
        commands.compare,
        "train a network with each spec's block (and a baseline without) over "
        "several seeds; write a report with statistics and plots (needs "
        "cbamgen[compare])",
    )
    sub.add_argument(
        "--data",
        default="digits",
        metavar="NAME|PATH",
        help="digits (built in: cluttered digits, offline), an .npz with x_train, "
        "y_train, x_val, y_val, or a folder with one sub-folder per class "
        "(default: digits)",
    )
    sub.add_argument(
        "--model",
        default="resnet",
        metavar="NAME|FILE.keras|module:function",
        help="resnet, cnn, keras.applications.NAME (weights=None; input shape and "
        "classes from the data), a saved FILE.keras (e.g. a network you trained), or "
        "module:function(block, input_shape, classes) -> keras.Model, block a layer "
        "factory or None (default: resnet)",
    )
    sub.add_argument(
        "--placement",
        metavar="residual|after:PATTERN|after_conv",
        help="where the blocks go: on each residual branch before the addition "
        "(the default; the cnn's is after_conv), after every layer whose name "
        "matches the glob PATTERN, or (built-in networks) after every conv stage; "
        "all but the built-in placements go through insert_blocks",
    )
    sub.add_argument(
        "--identity",
        action="store_true",
        help="start each block as the identity (its gamma gate at 0; the spec needs "
        "gamma: {mode: residual}): with a trained FILE.keras, the fine-tuning "
        "question: does adding the block help a network already trained?",
    )
    sub.add_argument(
        "--seeds", type=int, metavar="K", help="seeds 0 .. K-1 per variant (default: 3)"
    )
    sub.add_argument(
        "--epochs", type=int, metavar="E", help="training epochs (default: 12)"
    )
    sub.add_argument(
        "--out",
        type=Path,
        default=Path("compare"),
        metavar="DIR",
        help="report, tables, plots and KerasTuner's trial records; a repeated "
        "command trains only what is missing (default: compare)",
    )
    sub.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 1 seed, 1 epoch, a slice of the data (under a minute)",
    )
    sub.add_argument(
        "--save-models",
        action="store_true",
        help="save each network this run trains to DIR/models/LABEL-seedN.keras",
    )
    sub.add_argument(
        "--quiet",
        action="store_true",
        help="no progress (trial, epoch, loss, time left); also off with CI=true",
    )
