"""What goes wrong talking to a model, as typed errors whose ``str()`` is one line a user can act on."""

from __future__ import annotations


class LLMError(Exception):
    """An LLM call failed; ``str()`` is one line a user can act on."""


class LLMUnavailable(LLMError):
    pass


class LLMTimeout(LLMError):
    pass


class StructuredOutputError(LLMError):
    """The model did not produce valid output for the schema after the allowed re-asks."""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw
