"""Every event the engine publishes, and the asyncio EventBus that carries them.

Events are frozen dataclasses with a ``type`` string and JSON-serialisable fields only; the
journal, ``ask --json`` and the dashboard all use :func:`to_dict` / :func:`from_dict`, so what is
read back equals what was published. This module is the one place to read them all.

The bus never lets a subscriber hurt the engine: each subscriber has its own bounded queue and
its own task, ``publish`` never waits (a full queue drops that subscriber's oldest event and
counts it), and an exception in a handler is counted and reported, never raised to the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import threading
import time
import types
import typing
from collections.abc import AsyncIterator, Awaitable, Callable
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
class SearchResults(Event):
    """Ranked reuse candidates: each a dict with ``name`` and ``score``."""

    type: ClassVar[str] = "search_results"
    query: str
    candidates: tuple[dict[str, Any], ...] = ()
    threshold: float = 0.0


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


# --- the bus -----------------------------------------------------------------------------

Handler = Callable[[Event], Awaitable[None] | None]


class Subscription:
    """One subscriber's bounded queue. Either a task drains it into a handler, or the owner
    iterates it with ``async for``. ``dropped`` and ``errors`` count what went wrong."""

    def __init__(self, bus: EventBus, name: str, maxsize: int) -> None:
        self.bus = bus
        self.name = name
        self.queue: asyncio.Queue[Event | None] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.errors = 0
        self.task: asyncio.Task[None] | None = None
        self.closed = False

    def offer(self, event: Event | None) -> None:
        if self.closed and event is not None:
            return
        while True:
            try:
                self.queue.put_nowait(event)
                return
            except asyncio.QueueFull:
                with contextlib.suppress(asyncio.QueueEmpty):
                    self.queue.get_nowait()
                    self.queue.task_done()
                    self.dropped += 1

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self.queue.get()
            try:
                if event is None:
                    return
                yield event
            finally:
                self.queue.task_done()

    async def batches(self, limit: int = 256) -> AsyncIterator[list[Event]]:
        """What is queued, up to ``limit`` events at a time: a view that redraws once per
        batch keeps up with a flood that per-event redraws could not."""
        while True:
            event = await self.queue.get()
            self.queue.task_done()
            if event is None:
                return
            batch = [event]
            while len(batch) < limit and not self.queue.empty():
                event = self.queue.get_nowait()
                self.queue.task_done()
                if event is None:
                    yield batch
                    return
                batch.append(event)
            yield batch

    def close(self) -> None:
        """Stop delivery; a handler task ends after what is already queued."""
        if not self.closed:
            self.closed = True
            self.offer(None)
            self.bus._forget(self)


class EventBus:
    """Fan-out of events to independent subscribers. ``publish`` is safe from any thread."""

    def __init__(self) -> None:
        self._subs: list[Subscription] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._pending: list[Event] = []  # published from other threads, not yet delivered
        self._wake_pending = False

    def _bind_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if self._loop is None or self._loop.is_closed():
            self._loop = loop
        return loop

    def subscribe(
        self, handler: Handler | None = None, *, name: str = "", maxsize: int = 1000
    ) -> Subscription:
        """With a handler, a task calls it for each event in order; without one, iterate the
        returned Subscription. Must be called on the event loop."""
        self._bind_loop()
        sub = Subscription(self, name or getattr(handler, "__qualname__", "subscriber"), maxsize)
        if handler is not None:
            sub.task = asyncio.create_task(self._drain(sub, handler), name=f"bus:{sub.name}")
        with self._lock:
            self._subs.append(sub)
        return sub

    def _forget(self, sub: Subscription) -> None:
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    async def _drain(self, sub: Subscription, handler: Handler) -> None:
        handled = 0
        async for event in sub:
            handled += 1
            if handled % 32 == 0:
                await asyncio.sleep(0)  # a queued flood must not hold the loop in one go
            try:
                result = handler(event)
                if inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                sub.errors += 1
                log.exception("event subscriber %s failed on %s", sub.name, event.type)

    def publish(self, event: Event) -> None:
        """Hand ``event`` to every subscriber without ever waiting."""
        loop = self._loop
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if loop is not None and running is not loop and not loop.is_closed():
            # from another thread: queue it, and wake the loop once per burst rather than once
            # per event (a thread publishing 100 events would otherwise cost 100 wake-ups)
            with self._lock:
                self._pending.append(event)
                if self._wake_pending:
                    return
                self._wake_pending = True
            loop.call_soon_threadsafe(self._deliver_pending)
        else:
            self._deliver(event)

    def _deliver_pending(self) -> None:
        with self._lock:
            events = list(self._pending)
            self._pending.clear()
            self._wake_pending = False
        for event in events:
            self._deliver(event)

    def _deliver(self, event: Event) -> None:
        with self._lock:
            subs = list(self._subs)
        for sub in subs:
            sub.offer(event)

    @property
    def subscriptions(self) -> list[Subscription]:
        with self._lock:
            return list(self._subs)

    async def drain(self, timeout: float = 5.0) -> None:
        """Wait until every handler subscriber has handled what is queued (or the timeout passes)."""
        await asyncio.sleep(0)  # let events handed over from other threads reach the queues
        joins = [sub.queue.join() for sub in self.subscriptions if sub.task is not None]
        if joins:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*joins), timeout)

    async def aclose(self, timeout: float = 5.0) -> None:
        """Deliver what is queued, then stop every subscriber task."""
        subs = self.subscriptions
        for sub in subs:
            sub.close()
        tasks = [sub.task for sub in subs if sub.task is not None]
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
