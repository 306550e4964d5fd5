"""Every event the engine publishes, and the asyncio EventBus that carries them.

Events are frozen dataclasses with a ``type`` string and JSON-serialisable fields only; the
journal, ``ask --json`` and the dashboard all use :func:`to_dict` / :func:`from_dict`, so what is
read back equals what was published. This module is the one place to read them all; the bus
that carries them is :mod:`tui_agent.core.bus`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
import types
import typing
from dataclasses import dataclass, field
from typing import Any, ClassVar

log = logging.getLogger(__name__)

EVENT_TYPES: dict[str, type[Event]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """Base of all events. ``request_id`` ties an event to one user request ("" for app-wide)."""

    type: ClassVar[str] = "event"
    request_id: str = ""
    ts: float = field(default_factory=time.time)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.type in EVENT_TYPES:
            raise TypeError(f"duplicate event type {cls.type!r}")
        EVENT_TYPES[cls.type] = cls


# --- session and components -------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SessionStarted(Event):
    type: ClassVar[str] = "session_started"
    session_id: str
    version: str


@dataclass(frozen=True, kw_only=True)
class ComponentState(Event):
    """A heavy component's life: e.g. local_model starting -> ready, sandbox ready, index ready."""

    type: ClassVar[str] = "component_state"
    component: str
    state: str
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class Progress(Event):
    """Long work with a known size (index rebuild, model pull). ``total`` 0 means unknown."""

    type: ClassVar[str] = "progress"
    task: str
    done: int
    total: int = 0
    message: str = ""


@dataclass(frozen=True, kw_only=True)
class Notice(Event):
    """Something the user should see that is not tied to a step: level is info|warning|error."""

    type: ClassVar[str] = "notice"
    level: str
    message: str


# --- the request flow -------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class QueryReceived(Event):
    type: ClassVar[str] = "query_received"
    text: str


@dataclass(frozen=True, kw_only=True)
class FollowUpRewritten(Event):
    """A request that followed up on the session's last exchange, as it stands alone."""

    type: ClassVar[str] = "follow_up"
    original: str
    rewritten: str


@dataclass(frozen=True, kw_only=True)
class SearchResults(Event):
    """Ranked reuse candidates: each a dict with ``name`` and ``score``."""

    type: ClassVar[str] = "search_results"
    query: str
    candidates: tuple[dict[str, Any], ...] = ()
    threshold: float = 0.0


@dataclass(frozen=True, kw_only=True)
class DecisionMade(Event):
    """Reuse a tool, make a new one, or ask for a missing value; ``reason`` says why in a line."""

    type: ClassVar[str] = "decision"
    decision: str  # a flow Choice: reuse | synthesise | ask | refuse
    tool: str | None = None
    reason: str = ""


@dataclass(frozen=True, kw_only=True)
class PlanMade(Event):
    """The steps a request is answered by: each ``{"tool": name or "new", "args": ..., "request":
    ...}``, "$1" standing for step 1's result."""

    type: ClassVar[str] = "plan"
    steps: tuple[dict[str, Any], ...]


@dataclass(frozen=True, kw_only=True)
class PlanStepDone(Event):
    """One step of a plan: ``status`` started | done | failed; ``value`` its result when done."""

    type: ClassVar[str] = "plan_step"
    index: int  # 1-based
    tool: str
    status: str
    value: Any = None
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class RepairOffered(Event):
    """A reused tool failed on a request's arguments: repairing it with that input as a new test
    case is offered (the dashboard's r key, `ask --repair`)."""

    type: ClassVar[str] = "repair_offered"
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    request: str = ""
    error: str = ""


@dataclass(frozen=True, kw_only=True)
class ToolChosen(Event):
    type: ClassVar[str] = "tool_chosen"
    name: str
    score: float
    reused: bool


@dataclass(frozen=True, kw_only=True)
class SynthesisStep(Event):
    """One TDD step: step is spec|tests|gates|implementation|verify|repair|register;
    status is started|done|failed."""

    type: ClassVar[str] = "synthesis_step"
    step: str
    status: str
    attempt: int = 1
    detail: str = ""


@dataclass(frozen=True, kw_only=True)
class CodeChunk(Event):
    """A piece of source as the model writes it; ``file`` is tool.py or test_tool.py."""

    type: ClassVar[str] = "code_chunk"
    file: str
    text: str
    replace: bool = False  # True: ``text`` is the whole file; False: it continues the file


@dataclass(frozen=True, kw_only=True)
class SandboxOutput(Event):
    """One line printed inside the sandbox while a run is going on."""

    type: ClassVar[str] = "sandbox_output"
    line: str
    stream: str = "stdout"


@dataclass(frozen=True, kw_only=True)
class VerdictReady(Event):
    type: ClassVar[str] = "verdict"
    tool: str
    passed: bool
    reason: str | None = None
    collected: int = 0
    failed: int = 0
    duration_s: float = 0.0


@dataclass(frozen=True, kw_only=True)
class ToolRegistered(Event):
    type: ClassVar[str] = "tool_registered"
    name: str
    version: int


@dataclass(frozen=True, kw_only=True)
class ToolRemoved(Event):
    type: ClassVar[str] = "tool_removed"
    name: str


@dataclass(frozen=True, kw_only=True)
class ApprovalRequested(Event):
    """A new tool waits for a person's yes before its first run."""

    type: ClassVar[str] = "approval_requested"
    name: str
    version: int


@dataclass(frozen=True, kw_only=True)
class ApprovalDecided(Event):
    type: ClassVar[str] = "approval_decided"
    name: str
    approved: bool
    by: str = "user"  # user | auto | flag (--yes) | nobody (headless, no --yes)


@dataclass(frozen=True, kw_only=True)
class ToolCalled(Event):
    type: ClassVar[str] = "tool_called"
    name: str
    args: dict[str, Any]
    ok: bool
    result: Any = None
    error: str | None = None


@dataclass(frozen=True, kw_only=True)
class LLMCall(Event):
    """Accounting for one model call."""

    type: ClassVar[str] = "llm_call"
    purpose: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    ok: bool = True


@dataclass(frozen=True, kw_only=True)
class QuestionAsked(Event):
    """The request lacks something only the user can give (a required argument)."""

    type: ClassVar[str] = "question"
    text: str
    missing: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class AnswerChunk(Event):
    type: ClassVar[str] = "answer_chunk"
    text: str


@dataclass(frozen=True, kw_only=True)
class Answer(Event):
    """The final reply. ``verified`` is True only when a verified tool computed ``value``."""

    type: ClassVar[str] = "answer"
    text: str
    verified: bool
    tool: str | None = None
    value: Any = None


@dataclass(frozen=True, kw_only=True)
class RequestFailed(Event):
    type: ClassVar[str] = "request_failed"
    reason: str


# --- serialisation -----------------------------------------------------------------------


def to_dict(event: Event) -> dict[str, Any]:
    data = {"type": event.type}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        data[f.name] = list(value) if isinstance(value, tuple) else value
    return data


def to_json(event: Event) -> str:
    return json.dumps(to_dict(event), ensure_ascii=False, default=str)


def _tuple_fields(cls: type[Event]) -> frozenset[str]:
    hints = typing.get_type_hints(cls)
    names = set()
    for f in dataclasses.fields(cls):
        hint = hints[f.name]
        origin = typing.get_origin(hint)
        if origin is tuple or (
            origin in (typing.Union, types.UnionType)
            and tuple in map(typing.get_origin, typing.get_args(hint))
        ):
            names.add(f.name)
    return frozenset(names)


def from_dict(data: dict[str, Any]) -> Event:
    """Rebuild an event; raises ValueError on an unknown type or fields that do not fit it."""
    kind = data.get("type")
    cls = EVENT_TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event type {kind!r}")
    tuples = _tuple_fields(cls)
    kwargs = {
        k: (tuple(v) if k in tuples and isinstance(v, list) else v) for k, v in data.items() if k != "type"
    }
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise ValueError(f"bad {kind} event: {exc}") from None
