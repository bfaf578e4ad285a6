"""What each test mark needs, and whether this machine has it.

Marks (registered in pyproject.toml) say what a test needs beyond the generator:

- ``keras``: Keras 3 with TensorFlow (it runs layers);
- ``tf25``: the TensorFlow 2.5.3 interpreter (``.venv-tf25`` or ``CBAMGEN_TF25_PYTHON``);
- ``backends``: JAX and PyTorch, Keras's other backends;
- ``compare``: the ``compare`` extra (KerasTuner, matplotlib, scikit-learn, scipy, tqdm);
- ``deploy``: the exporters and runtimes (tf2onnx, onnx, onnxruntime, ai-edge-litert);
- ``slow``: nothing more, but long: runs only when ``-m`` names it.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TF25 = Path(
    os.environ.get("CBAMGEN_TF25_PYTHON", ROOT / ".venv-tf25" / "bin" / "python")
)
MODULES = {
    "keras": ("keras", "tensorflow"),
    "backends": ("jax", "torch"),
    "compare": ("keras_tuner", "matplotlib", "sklearn", "scipy", "tqdm"),
    "deploy": ("tf2onnx", "onnx", "onnxruntime", "ai_edge_litert"),
}
INSTALL = {
    "keras": "pip install -e '.[test]'",
    "backends": "pip install -e '.[test]'",
    "compare": "pip install -e '.[compare]'",
    "deploy": "pip install -e '.[test]'",
    "tf25": "bash .ci/setup builds it",
}


def missing(mark: str) -> str | None:
    """What ``mark`` needs that is not installed here, or None."""
    if mark == "tf25":
        return None if TF25.exists() else f"no TensorFlow 2.5.3 at {TF25}"
    absent = [m for m in MODULES.get(mark, ()) if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed" if absent else None
