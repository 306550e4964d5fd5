from __future__ import annotations

import asyncio
import threading
import time

from tui_agent.core.bus import EventBus
from tui_agent.core.events import Event, Notice, QueryReceived


def _queries(n: int) -> list[Event]:
    return [QueryReceived(text=f"q{i}") for i in range(n)]


async def test_events_reach_every_subscriber_in_order() -> None:
    bus = EventBus()
    seen: dict[str, list[str]] = {"a": [], "b": [], "c": []}
    for name in seen:
        bus.subscribe(lambda e, name=name: seen[name].append(e.text), name=name)
    for event in _queries(200):
        bus.publish(event)
    await bus.drain()
    expected = [f"q{i}" for i in range(200)]
    assert seen == {"a": expected, "b": expected, "c": expected}


async def test_async_handlers_are_awaited_in_order() -> None:
    bus = EventBus()
    seen: list[str] = []

    async def slowish(event: Event) -> None:
        await asyncio.sleep(0.001)
        seen.append(event.text)  # type: ignore[attr-defined]

    bus.subscribe(slowish)
    for event in _queries(20):
        bus.publish(event)
    await bus.drain()
    assert seen == [f"q{i}" for i in range(20)]


async def test_a_raising_subscriber_does_not_stop_others_or_itself() -> None:
    bus = EventBus()
    good: list[str] = []
    survived: list[str] = []

    def explodes(event: Event) -> None:
        if event.text == "q3":  # type: ignore[attr-defined]
            raise RuntimeError("boom")
        survived.append(event.text)  # type: ignore[attr-defined]

    bad_sub = bus.subscribe(explodes, name="bad")
    bus.subscribe(lambda e: good.append(e.text), name="good")
    for event in _queries(6):
        bus.publish(event)
    await bus.drain()
    assert good == [f"q{i}" for i in range(6)]
    assert survived == ["q0", "q1", "q2", "q4", "q5"]
    assert bad_sub.errors == 1


async def test_a_subscriber_that_never_reads_does_not_block_publish() -> None:
    bus = EventBus()
    stuck = bus.subscribe(name="never-reads", maxsize=10)  # nobody iterates it
    hung = asyncio.Event()

    async def never_returns(event: Event) -> None:
        await hung.wait()

    bus.subscribe(never_returns, name="hangs", maxsize=10)
    got: list[str] = []
    bus.subscribe(lambda e: got.append(e.text), name="reader", maxsize=10_000)

    started = time.perf_counter()
    for event in _queries(5000):
        bus.publish(event)
    elapsed = time.perf_counter() - started
    await bus.drain(timeout=2)

    assert len(got) == 5000
    assert stuck.queue.qsize() == 10
    assert stuck.dropped == 4990
    # the newest events are kept: a stuck UI catches up on what matters now
    assert [e.text for e in list(stuck.queue._queue)][-1] == "q4999"  # type: ignore[attr-defined]
    assert elapsed < 5  # publish is a non-blocking put: it returned, it never waited on a reader
    hung.set()
    await bus.aclose()


async def test_publish_from_a_worker_thread_is_delivered_on_the_loop() -> None:
    bus = EventBus()
    got: list[tuple[str, bool]] = []
    loop_thread = threading.get_ident()
    bus.subscribe(lambda e: got.append((e.message, threading.get_ident() == loop_thread)))
    thread = threading.Thread(
        target=lambda: [bus.publish(Notice(level="info", message=f"t{i}")) for i in range(50)]
    )
    thread.start()
    await asyncio.to_thread(thread.join)
    await asyncio.sleep(0.05)
    await bus.drain()
    assert got == [(f"t{i}", True) for i in range(50)]


async def test_iterating_subscription_and_close() -> None:
    bus = EventBus()
    sub = bus.subscribe(name="iter")
    for event in _queries(3):
        bus.publish(event)
    sub.close()
    bus.publish(QueryReceived(text="after close"))
    texts = [e.text async for e in sub]  # type: ignore[attr-defined]
    assert texts == ["q0", "q1", "q2"]
    assert sub not in bus.subscriptions


async def test_batches_hand_over_what_is_queued_in_order_and_bounded() -> None:
    bus = EventBus()
    sub = bus.subscribe(name="view", maxsize=1000)
    for i in range(70):
        bus.publish(Notice(level="info", message=str(i)))
    sub.close()
    sizes, messages = [], []
    async for batch in sub.batches(limit=30):
        sizes.append(len(batch))
        messages += [e.message for e in batch]  # type: ignore[attr-defined]
    assert sizes == [30, 30, 10]
    assert messages == [str(i) for i in range(70)]


async def test_a_handler_flood_lets_the_loop_breathe() -> None:
    """A thousand queued events are handled, but not in one uninterrupted stretch."""
    bus = EventBus()
    handled: list[int] = []
    bus.subscribe(lambda e: handled.append(1), name="slow", maxsize=5000)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while len(handled) < 1000:
            ticks += 1
            await asyncio.sleep(0)

    for _ in range(1000):
        bus.publish(Notice(level="info", message="x"))
    await asyncio.gather(ticker(), bus.drain())
    assert len(handled) == 1000 and ticks >= 10
