"""The ``cbamgen`` command: render, check and validate specs.

Exit codes: 0 ok; 1 generated files differ from their specs (``check``); 2 usage error or
an invalid spec. Nothing here imports TensorFlow or Keras.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .errors import Diagnostic, SpecError
from .loader import load_spec
from .render import RenderError, render_source
from .writer import WriteError, write_atomic

OK, DIFFERENT, USAGE = 0, 1, 2


@dataclass(frozen=True)
class Rendered:
    spec_path: Path
    output: Path
    source: str


def display_path(path: Path) -> str:
    """The spec path as the header and messages show it: relative to the working
    directory when below it, with forward slashes, so output is the same everywhere."""
    resolved = path.resolve()
    try:
        return resolved.relative_to(Path.cwd().resolve()).as_posix()
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
                    f"the output module would be '{stem}.py', which Python cannot import; "
                    "rename the spec to a valid module name (letters, digits, underscores)",
                )
            ],
        )
    return out_dir / f"{stem}.py"


def render_all(specs: Sequence[Path], out_dir: Path) -> list[Rendered]:
    """Load and render every spec in memory; raise one error listing all bad specs."""
    rendered, errors = [], []
    for spec_path in specs:
        shown = display_path(spec_path)
        try:
            spec = load_spec(spec_path, display_name=shown)
            output = output_path(spec_path, out_dir)
            rendered.append(Rendered(spec_path, output, render_source(spec, shown)))
        except SpecError as exc:
            errors.append(exc)
    if errors:
        raise _Failed([e.report() for e in errors])
    return rendered


class _Failed(Exception):
    def __init__(self, reports: list[str]):
        self.reports = reports


def _cmd_render(args: argparse.Namespace) -> int:
    rendered = render_all(args.specs, args.output)
    for item in rendered:
        write_atomic(item.output, item.source)
        print(
            f"wrote {display_path(item.output)} (from {display_path(item.spec_path)})"
        )
    return OK


def _cmd_check(args: argparse.Namespace) -> int:
    specs = args.specs or sorted(Path("specs").glob("*.yaml"))
    if not specs:
        raise _Failed(["cbamgen check: no specs given and none under specs/"])
    status = OK
    for item in render_all(specs, args.output):
        current = (
            item.output.read_text(encoding="utf-8") if item.output.is_file() else None
        )
        if current == item.source:
            continue
        status = DIFFERENT
        shown = display_path(item.output)
        what = "missing" if current is None else "out of date"
        print(f"{shown}: {what}; run: cbamgen render {display_path(item.spec_path)}")
        sys.stdout.writelines(
            difflib.unified_diff(
                (current or "").splitlines(keepends=True),
                item.source.splitlines(keepends=True),
                f"{shown} (on disk)",
                f"{shown} (rendered)",
            )
        )
    if status == OK:
        print(f"{len(specs)} generated file(s) up to date")
    return status


def _cmd_validate(args: argparse.Namespace) -> int:
    render_all(args.specs, args.output)
    for spec_path in args.specs:
        print(f"{display_path(spec_path)}: ok")
    return OK


def _cmd_pools(args: argparse.Namespace) -> int:
    from . import listing

    sys.stdout.write(listing.markdown() if args.markdown else listing.text())
    return OK


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(
        prog="cbamgen",
        description="Render YAML attention-block specs into standalone Keras layers.",
        epilog="Exit codes: 0 ok, 1 generated files differ (check), 2 usage or spec error.",
    )
    main.add_argument("--version", action="version", version=f"cbamgen {__version__}")
    commands = main.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, handler, summary, nargs in (
        (
            "render",
            _cmd_render,
            "write generated/NAME.py for each specs/NAME.yaml",
            "+",
        ),
        (
            "check",
            _cmd_check,
            "exit 1 with a diff if generated files are stale (no writes)",
            "*",
        ),
        (
            "validate",
            _cmd_validate,
            "check specs (and that they render); write nothing",
            "+",
        ),
    ):
        sub = commands.add_parser(name, help=summary, description=summary)
        sub.add_argument("specs", nargs=nargs, type=Path, metavar="SPEC")
        sub.add_argument(
            "-o",
            "--output",
            type=Path,
            default=Path("generated"),
            metavar="DIR",
            help="directory of generated files (default: generated)",
        )
        sub.set_defaults(handler=handler)
    pools = commands.add_parser(
        "pools", help="list every pool: formula, parameters, training behaviour, source"
    )
    pools.add_argument("--markdown", action="store_true", help="as the docs' table")
    pools.set_defaults(handler=_cmd_pools)
    return main


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except _Failed as exc:
        print("\n".join(exc.reports), file=sys.stderr)
        return USAGE
    except (WriteError, OSError) as exc:
        print(f"cbamgen: cannot write: {exc}", file=sys.stderr)
        return USAGE
    except RenderError as exc:
        print(f"cbamgen: internal error, please report it: {exc}", file=sys.stderr)
        return USAGE


if __name__ == "__main__":
    sys.exit(main())
