"""Exit codes, and the exception that stops a command with a message."""

from __future__ import annotations

OK, DIFFERENT, USAGE = 0, 1, 2


class Failure(Exception):
    """Stops a command with exit code 2 after printing ``messages`` to stderr."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages
