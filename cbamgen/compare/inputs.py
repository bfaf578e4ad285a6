"""The error every compare module raises for a bad input, before any training."""

from __future__ import annotations


class InputError(Exception):
    """A comparison cannot start; ``messages`` say what is wrong and how to fix it.
    The command prints them and exits with code 2, without a traceback."""

    def __init__(self, messages: list[str]):
        super().__init__("\n".join(messages))
        self.messages = messages
