"""The ``cbamgen`` command.

Exit codes: 0 ok; 1 generated files differ from their specs (``check``, ``render
--check``) or a verification failed (``verify``); 2 usage error, invalid spec, or a file
that cannot or may not be written. Only ``verify`` and ``compare`` import Keras, and only
when they run.
"""

from __future__ import annotations

import argparse
import difflib
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__, header
from .errors import Diagnostic, SpecError
from .writer import WriteError, refusal, write_all, write_atomic

# The loader (pydantic) and the renderer (jinja2, black) are imported by the commands
# that use them, so that --help and --version start in a few tens of milliseconds.

OK, DIFFERENT, USAGE = 0, 1, 2
DEFAULT_SPECS = Path("specs")
DEFAULT_OUTPUT = Path("generated")


class Failure(Exception):
    """Stops a command with exit code 2 after printing ``messages`` to stderr."""

    def __init__(self, messages: list[str]):
        self.messages = messages


@dataclass(frozen=True)
class Rendered:
    spec_path: Path
    output: Path
    source: str


def display_path(path: Path) -> str:
    """A path as headers and messages show it: relative to the working directory when
    below it, with forward slashes, so output is the same on every machine."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def output_path(spec_path: Path, out_dir: Path) -> Path:
    stem = spec_path.stem
    if not stem.isidentifier():
        raise SpecError(
            display_path(spec_path),
            [
                Diagnostic(
                    1,
                    1,
                    (),
                    f"the output module would be '{stem}.py', which Python cannot "
                    "import; rename the spec to a valid module name (letters, digits, underscores)",
                )
            ],
        )
    return out_dir / f"{stem}.py"


def render_all(
    specs: Sequence[Path], out_dir: Path, target: str | None = None
) -> list[Rendered]:
    """Load and render every spec in memory (for ``target`` instead of the spec's own
    when given); one Failure lists every bad spec."""
    from .loader import load_spec
    from .render import render_source

    rendered, reports = [], []
    for spec_path in specs:
        shown = display_path(spec_path)
        try:
            spec = load_spec(spec_path, display_name=shown)
            if target is not None:
                spec = spec.model_copy(update={"target": target})
            output = output_path(spec_path, out_dir)
            rendered.append(Rendered(spec_path, output, render_source(spec, shown)))
        except SpecError as exc:
            reports.append(exc.report())
    if reports:
        raise Failure(reports)
    return rendered


def _all_specs(specs: Sequence[Path]) -> list[Path]:
    found = list(specs) or sorted(DEFAULT_SPECS.glob("*.yaml"))
    if not found:
        raise Failure([f"cbamgen: no SPEC given and no {DEFAULT_SPECS}/*.yaml found"])
    return found


def _diff(item: Rendered, current: str | None) -> str:
    shown = display_path(item.output)
    return "".join(
        difflib.unified_diff(
            (current or "").splitlines(keepends=True),
            item.source.splitlines(keepends=True),
            f"{shown} (on disk)",
            f"{shown} (from {display_path(item.spec_path)})",
        )
    )


def _current(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _orphans(out_dir: Path, rendered: list[Rendered]) -> list[Path]:
    """Files in ``out_dir`` with our header whose spec no longer exists."""
    ours = {item.output.resolve() for item in rendered}
    orphans = []
    for path in sorted(out_dir.glob("*.py")):
        found, _ = header.read(_current(path) or "")
        if found and path.resolve() not in ours and not Path(found.spec).exists():
            orphans.append(path)
    return orphans


def compare(rendered: list[Rendered], orphans: list[Path]) -> int:
    """Print what is stale, missing or orphaned (with diffs); 1 if anything is."""
    status = OK
    for item in rendered:
        current = _current(item.output)
        if current == item.source:
            continue
        status = DIFFERENT
        what = "missing" if current is None else "out of date"
        print(
            f"{display_path(item.output)}: {what}; run: cbamgen render "
            f"{display_path(item.spec_path)}"
        )
        sys.stdout.write(_diff(item, current))
    for path in orphans:
        status = DIFFERENT
        print(
            f"{display_path(path)}: orphan: its spec is gone; delete the file or "
            "restore the spec"
        )
    if status == OK:
        print(f"{len(rendered)} generated file(s) up to date")
    return status


def _cmd_render(args: argparse.Namespace) -> int:
    rendered = render_all(args.specs, args.output, args.target)
    if args.check:
        return compare(rendered, [])
    if args.diff:
        for item in rendered:
            sys.stdout.write(_diff(item, _current(item.output)))
        return OK
    refusals = [r for item in rendered if (r := refusal(item.output, args.force))]
    if refusals:
        raise Failure(refusals + ["cbamgen: nothing was written"])
    write_all([(item.output, item.source) for item in rendered])
    for item in rendered:
        print(
            f"wrote {display_path(item.output)} (from {display_path(item.spec_path)})"
        )
    return OK


def _cmd_check(args: argparse.Namespace) -> int:
    rendered = render_all(_all_specs(args.specs), args.output, args.target)
    return compare(rendered, [] if args.specs else _orphans(args.output, rendered))


def _cmd_validate(args: argparse.Namespace) -> int:
    render_all(args.specs, args.output, args.target)
    for spec_path in args.specs:
        print(f"{display_path(spec_path)}: ok")
    return OK


def _cmd_verify(args: argparse.Namespace) -> int:
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
    from .verify import TOLERANCE, verify_spec

    status = OK
    print(f"{'spec':40} {'max error':>10}  checks (error bound {TOLERANCE:g})")
    for shown, spec in specs:
        result = verify_spec(spec, shown)
        passed = ", ".join(result.passed)
        print(
            f"{shown:40} {result.max_error:10.2e}  {'ok' if result.ok else 'FAILED'}: "
            f"{passed}"
        )
        for failure in result.failures:
            print(f"{'':40} {'':10}  failed: {failure}")
        status = status if result.ok else DIFFERENT
    return status


def load_or_fail(path: Path):
    from .loader import load_spec

    try:
        return load_spec(path, display_name=display_path(path))
    except SpecError as exc:
        raise Failure([exc.report()]) from None


def _cmd_new(args: argparse.Namespace) -> int:
    from .starter import class_name, starter

    if not args.name.isidentifier():
        raise Failure(
            [
                f"cbamgen new: '{args.name}' is not a valid module name (letters, "
                "digits, underscores; e.g. my_block)"
            ]
        )
    like = load_or_fail(args.like) if args.like else None
    target = args.dir / f"{args.name}.yaml"
    if target.exists():
        raise Failure([f"{display_path(target)}: exists already; choose another name"])
    text = starter(args.name, like)
    # The starter must itself be a valid spec: check before writing.
    from .loader import load_spec_bytes

    try:
        load_spec_bytes(text.encode(), display_path(target))
    except SpecError as exc:
        raise Failure(
            [
                f"cbamgen new: '{class_name(args.name)}' is not usable as a "
                f"class name:\n{exc.report()}"
            ]
        ) from None
    write_atomic(target, text)
    print(
        f"wrote {display_path(target)}; edit it, then: cbamgen render "
        f"{display_path(target)}"
    )
    return OK


def _cmd_pools(args: argparse.Namespace) -> int:
    from . import listing

    sys.stdout.write(listing.markdown() if args.markdown else listing.text())
    return OK


def _cmd_schema(args: argparse.Namespace) -> int:
    from .schema import json_schema

    print(json.dumps(json_schema(), indent=2, sort_keys=True))
    return OK


def _cmd_compare(args: argparse.Namespace) -> int:
    # Only this command needs Keras, KerasTuner, matplotlib, scikit-learn and tqdm.
    try:
        from .compare.command import Options, run
        from .compare.inputs import InputError
    except ImportError as exc:
        raise Failure(
            [
                f"cbamgen compare: {exc}; install the extra: pip install "
                "'cbamgen[compare]' (and a Keras 3 backend, e.g. tensorflow-cpu)"
            ]
        ) from None
    options = Options(
        args.specs,
        args.data,
        args.model,
        args.placement,
        args.seeds,
        args.epochs,
        args.out,
        args.quick,
    )
    try:
        return run(options)
    except InputError as exc:
        raise Failure(exc.messages) from None


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="cbamgen",
        description="Render YAML attention-block specs into standalone Keras layers.",
        epilog="Exit codes: 0 ok; 1 generated files differ or verification failed; "
        "2 usage error, invalid spec, or a file that cannot be written.",
    )
    main.add_argument("--version", action="version", version=f"cbamgen {__version__}")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler, summary: str, specs: str | None = "+"):
        sub = commands.add_parser(name, help=summary, description=summary)
        if specs:
            sub.add_argument("specs", nargs=specs, type=Path, metavar="SPEC")
        sub.set_defaults(handler=handler)
        return sub

    def output_option(sub):
        sub.add_argument(
            "-o",
            "--output",
            type=Path,
            default=DEFAULT_OUTPUT,
            metavar="DIR",
            help="directory of generated files (default: generated)",
        )
        sub.add_argument(
            "--target",
            choices=("keras3", "tf_keras"),
            help="render for this target instead of the spec's own (e.g. -o "
            "generated/tf_keras --target tf_keras)",
        )

    render = command(
        "render",
        _cmd_render,
        "write DIR/NAME.py for each NAME.yaml (all or nothing, atomically)",
    )
    output_option(render)
    mode = render.add_mutually_exclusive_group()
    mode.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 with a diff if a file is stale",
    )
    mode.add_argument(
        "--diff", action="store_true", help="write nothing; print what would change"
    )
    render.add_argument(
        "--force",
        action="store_true",
        help="overwrite files without our header or edited by hand",
    )
    output_option(
        command(
            "check",
            _cmd_check,
            "exit 1 with a diff if generated files are stale, missing "
            "or orphaned (default: every specs/*.yaml); never writes",
            specs="*",
        )
    )
    output_option(
        command(
            "validate", _cmd_validate, "check specs and that they render; write nothing"
        )
    )
    command(
        "verify",
        _cmd_verify,
        "run each spec's layer: reference equivalence, a "
        "training step, a .keras round trip (imports Keras)",
    )
    new = command(
        "new", _cmd_new, "write a commented starter spec DIR/NAME.yaml", specs=None
    )
    new.add_argument("name", metavar="NAME", help="module name, e.g. my_block")
    new.add_argument("--like", type=Path, metavar="SPEC", help="start from this spec")
    new.add_argument(
        "-d",
        "--dir",
        type=Path,
        default=DEFAULT_SPECS,
        metavar="DIR",
        help="where to write it (default: specs)",
    )
    pools = command(
        "pools",
        _cmd_pools,
        "list every pool: formula, parameters, " "training behaviour, source",
        specs=None,
    )
    pools.add_argument("--markdown", action="store_true", help="as the docs' table")
    command("schema", _cmd_schema, "print the spec language's JSON Schema", specs=None)
    compare = command(
        "compare",
        _cmd_compare,
        "train a network with each spec's block (and a baseline without) over "
        "several seeds; write a report with statistics and plots (needs "
        "cbamgen[compare])",
    )
    compare.add_argument(
        "--data",
        default="digits",
        metavar="NAME|PATH",
        help="digits (built in: cluttered digits, offline), an .npz with x_train, "
        "y_train, x_val, y_val, or a folder with one sub-folder per class "
        "(default: digits)",
    )
    compare.add_argument(
        "--model",
        default="resnet",
        metavar="NAME|module:function",
        help="resnet, cnn, or module:function(block, input_shape, classes) -> "
        "keras.Model, block a layer factory or None (default: resnet)",
    )
    compare.add_argument(
        "--placement",
        choices=("residual", "after_conv"),
        help="built-in models: on each residual branch before the addition "
        "(resnet's default) or after every conv stage (cnn's default)",
    )
    compare.add_argument(
        "--seeds", type=int, metavar="K", help="seeds 0 .. K-1 per variant (default: 3)"
    )
    compare.add_argument(
        "--epochs", type=int, metavar="E", help="training epochs (default: 12)"
    )
    compare.add_argument(
        "--out",
        type=Path,
        default=Path("compare"),
        metavar="DIR",
        help="report, tables, plots and KerasTuner's trial records; a repeated "
        "command trains only what is missing (default: compare)",
    )
    compare.add_argument(
        "--quick",
        action="store_true",
        help="a smoke test: 1 seed, 1 epoch, a slice of the data (under a minute)",
    )
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except Failure as exc:
        print("\n".join(exc.messages), file=sys.stderr)
        return USAGE
    except WriteError as exc:
        print(f"cbamgen: cannot write {exc}; no file was changed", file=sys.stderr)
        return USAGE
    except Exception as exc:
        from .render import RenderError

        if not isinstance(exc, RenderError):
            raise
        print(f"cbamgen: internal error, please report it: {exc}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
