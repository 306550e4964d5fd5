"""The asyncio EventBus that carries events from the engine to every view.

The bus never lets a subscriber hurt the engine: each subscriber has its own bounded queue and
its own task, ``publish`` never waits (a full queue drops that subscriber's oldest event and
counts it), and an exception in a handler is counted and reported, never raised to the publisher.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import threading
from collections.abc import AsyncIterator, Awaitable, Callable

from tui_agent.core.events import Event

log = logging.getLogger(__name__)


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
