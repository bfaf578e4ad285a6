"""Tests run from the repository root, whatever directory pytest was started in."""

import os
from pathlib import Path

os.chdir(Path(__file__).resolve().parent.parent)
