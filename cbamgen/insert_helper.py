"""``insert_blocks.py``: the function that puts generated blocks into existing models.

One template (``templates/insert/insert_blocks.py.j2``) for both targets; what Keras 3
and Keras 2 spell differently is in ``templates/insert/<target>.py.j2``. ``cbamgen
insert-helper`` writes the file users copy, ``cbamgen check`` compares it like a
generated layer, and :mod:`cbamgen.insert` runs the Keras 3 rendering in-process, so
the function exists once.
"""

from __future__ import annotations

from pathlib import Path

from . import header
from .dialect import TARGETS
from .regenerate import Rendered, current
from .render import environment, finish

#: The command that writes the file, as its header names it, and the file's name.
COMMAND = "insert-helper"
FILE_NAME = "insert_blocks.py"


def render_insert_helper(target: str = "keras3") -> str:
    """The text of ``insert_blocks.py`` for ``target``."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; one of {', '.join(TARGETS)}")
    raw = environment().get_template("insert/insert_blocks.py.j2").render(target=target)
    return finish(
        raw,
        lambda body: header.attach_helper(COMMAND, target, body),
        f"{FILE_NAME} ({target})",
    )


def rendered(out_dir: Path, target: str | None) -> Rendered:
    """``out_dir/insert_blocks.py`` as it should be, for ``target``; None keeps the
    target the file's header names, else Keras 3."""
    path = out_dir / FILE_NAME
    if target is None:
        found, _ = header.read(current(path) or "")
        target = found.target if found and found.target in TARGETS else "keras3"
    return Rendered(None, path, render_insert_helper(target), COMMAND)
