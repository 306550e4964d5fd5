"""Bookkeeping after a tool has computed: a use, an answer, a learned phrasing. It is worth
keeping, but not worth an answer: a store that fails here (a lock held past its timeout, a full
disk, a record another process broke) is logged and shown, never turned into a failure."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import Notice

log = logging.getLogger(__name__)


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


async def best_effort(
    bus: EventBus | None, what: str, work: Callable[..., Any], *args: Any, **kw: Any
) -> bool:
    """``work`` off the event loop; False, with a warning logged and published, if it raised."""
    try:
        await asyncio.to_thread(work, *args, **kw)
    except Exception as exc:
        log.warning("could not %s: %s", what, exc)
        if bus is not None:
            bus.publish(Notice(level="warning", message=f"could not {what}: {one_line(exc)}"))
        return False
    return True
