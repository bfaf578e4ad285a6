"""``from cbamgen.insert import insert_blocks``: put blocks into an existing Keras 3
model, for users who prefer an import to a copied file.

The function is the one ``cbamgen insert-helper`` writes to ``insert_blocks.py``: the
same template, rendered for Keras 3 and run here, so it exists once. Its documentation
is ``help(insert_blocks)``. A model it returns saves and loads without cbamgen.
"""

from __future__ import annotations

from .insert_helper import render_insert_helper
from .source_module import import_source

_module = import_source(render_insert_helper("keras3"), "insert_blocks")

insert_blocks = _module.insert_blocks
InsertError = _module.InsertError
insert_blocks.__module__ = InsertError.__module__ = __name__  # as help() shows them

__all__ = ["InsertError", "insert_blocks"]
