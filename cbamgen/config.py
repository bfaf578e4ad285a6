"""Project settings from ``[tool.cbamgen]`` in the nearest ``pyproject.toml``.

    [tool.cbamgen]
    specs = "model/specs"        # where the specs are (default: specs)
    output = "model/attention"   # where generated files go (default: generated)
    target = "tf_keras"          # render for this target (default: each spec's own)
    insert_helper = true         # the project keeps insert_blocks.py in output too

The nearest ``pyproject.toml`` that has a ``[tool.cbamgen]`` table is used, looking
from the working directory upwards; its paths are relative to the file's folder.
Without one, ``specs`` and ``generated`` in the working directory are used. Command
line flags (``-o``, ``--target``, ``-d``) override the settings.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from .dialect import TARGETS
from .errors import did_you_mean
from .regenerate import display_path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

KEYS = ("specs", "output", "target", "insert_helper")
#: Keys whose value is true or false; the others are non-empty strings.
FLAGS = ("insert_helper",)


class ConfigError(Exception):
    """A ``[tool.cbamgen]`` table that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class Config:
    specs: Path = Path("specs")
    output: Path = Path("generated")
    target: str | None = None
    #: Whether ``render`` writes, and ``check`` checks, ``output/insert_blocks.py``.
    insert_helper: bool = False
    #: The pyproject.toml the settings came from, if any.
    origin: Path | None = None

    @property
    def root(self) -> Path | None:
        """The project's folder: generated headers name specs relative to it."""
        return self.origin.parent if self.origin else None


def find(start: Path | None = None) -> Config:
    """The settings for commands run in ``start`` (default: the working directory)."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / "pyproject.toml"
        if path.is_file():
            table = _table(path)
            if table is not None:
                return _settings(path, table)
    return Config()


def _table(path: Path) -> dict | None:
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read it: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        # Only a file that mentions us is our business; others may be mid-edit.
        if "[tool.cbamgen]" not in path.read_text(encoding="utf-8", errors="replace"):
            return None
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    table = document.get("tool", {}).get("cbamgen")
    if table is not None and not isinstance(table, dict):
        raise ConfigError(f"{path}: 'tool.cbamgen' must be a table ([tool.cbamgen])")
    return table


def _settings(path: Path, table: dict) -> Config:
    where = f"{path}: [tool.cbamgen]"
    for key, value in table.items():
        if key not in KEYS:
            raise ConfigError(
                f"{where}: unknown key '{key}'{did_you_mean(key, KEYS)}; "
                f"keys: {', '.join(KEYS)}"
            )
        if key in FLAGS:
            if not isinstance(value, bool):
                raise ConfigError(
                    f"{where}: '{key}' must be true or false, got {value!r}"
                )
        elif not isinstance(value, str) or not value:
            raise ConfigError(
                f"{where}: '{key}' must be a non-empty string, got {value!r}"
            )
    target = table.get("target")
    if target is not None and target not in TARGETS:
        raise ConfigError(
            f"{where}: target '{target}' is not one of "
            f"{', '.join(TARGETS)}{did_you_mean(target, TARGETS)}"
        )
    base = path.parent
    return Config(
        specs=_relative(base / table.get("specs", "specs")),
        output=_relative(base / table.get("output", "generated")),
        target=target,
        insert_helper=table.get("insert_helper", False),
        origin=path,
    )


def _relative(path: Path) -> Path:
    """Short, machine-independent paths for messages and generated headers."""
    return Path(display_path(path))
