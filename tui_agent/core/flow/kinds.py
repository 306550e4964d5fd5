"""The flow's decisions and states as types: what was decided for a request, where a call of a
tool stands, and how a request ended. String enums, so events, the journal and ``--json`` carry
the same words as before, and a comparison with a plain string still holds."""

from __future__ import annotations

from enum import StrEnum


class Choice(StrEnum):
    """What the agent does with a request."""

    REUSE = "reuse"  # a tool in the library answers it
    MAKE = "synthesise"  # no tool does: a new one is made
    ASK = "ask"  # a value the request does not give is asked for
    REFUSE = "refuse"  # nothing may or can answer it here (a file it may not read, live data)


class CallState(StrEnum):
    """Where one call of one tool for one request stands."""

    READY = "ready"  # arguments found and checked, nothing run yet
    VALUE = "value"  # it ran and gave a value
    QUESTION = "question"  # a value it needs is not in the request
    MISFIT = "misfit"  # the tool does not compute what the request asks
    REFUSED = "refused"  # a file it would read may not be given to it
    ERROR = "error"  # it ran and raised, or was stopped


class Ending(StrEnum):
    """How a request ended: its one final event."""

    ANSWER = "answer"
    QUESTION = "question"
    FAILED = "failed"


class Route(StrEnum):
    """Which way the answer (or the failure) came."""

    REUSED = "reused"
    SYNTHESISED = "synthesised"
    PLANNED = "planned"  # a plan of library tools and new ones, run step by step
    FAILED = "failed"
    DECLINED = "declined"
