"""The ``cbamgen`` command: :mod:`.arguments` parses the command line, :mod:`.commands`
does what it asks, :mod:`.show` prints the outcome; :func:`main` turns failures into
messages and exit codes.

Exit codes: 0 ok; 1 generated files differ from their specs (``check``, ``render
--check``), a verification failed (``verify``) or a trial failed (``compare``); 2 usage
error, invalid spec, or a file that cannot or may not be written. Only ``verify``,
``bench`` and ``compare`` import Keras, and only when they run.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from ..regenerate import BadSpecs
from ..writer import WriteError
from .arguments import parser
from .status import USAGE, Failure

__all__ = ["main", "parser"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return args.handler(args)
    except Failure as exc:
        print("\n".join(exc.messages), file=sys.stderr)
        return USAGE
    except BadSpecs as exc:
        print("\n".join(exc.reports), file=sys.stderr)
        return USAGE
    except WriteError as exc:
        print(f"cbamgen: cannot write {exc}; no file was changed", file=sys.stderr)
        return USAGE
    except Exception as exc:
        from ..render import RenderError

        if not isinstance(exc, RenderError):
            raise
        print(f"cbamgen: internal error, please report it: {exc}", file=sys.stderr)
        return USAGE
