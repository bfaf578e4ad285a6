"""Generated source as a Python module, without writing it anywhere.

What ``verify``, ``bench``, ``compare``, the benchmarks and the tests share: the text a
render returns becomes a module whose classes they run, and tracebacks (and
``tf.function``'s AutoGraph) still find its lines.
"""

from __future__ import annotations

import itertools
import linecache
import sys
import types

_modules = itertools.count()


def import_source(source: str, label: str = "generated") -> types.ModuleType:
    """Execute generated source as a fresh module, never cached, never written."""
    name = f"_cbamgen_{label}_{next(_modules)}"
    module = types.ModuleType(name)
    module.__file__ = f"<{name}>"
    sys.modules[name] = module
    # Let inspect (tracebacks, tf.function's AutoGraph) find the source.
    linecache.cache[module.__file__] = (
        len(source),
        None,
        source.splitlines(keepends=True),
        module.__file__,
    )
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module
