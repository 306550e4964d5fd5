"""Reading a run's output: bounded capture handed out line by line, and the pump that stops at
the wall-clock deadline or the output limit."""

from __future__ import annotations

import selectors
import time
from collections.abc import Callable
from typing import Any

from tui_agent.core.sandbox.results import RawRun

MARKER = b"@@SELFENG-REPORT"

LineSink = Callable[[str], None]


class OutputCollector:
    """Bounded capture that hands out complete lines as they arrive."""

    def __init__(self, limit: int, sink: LineSink | None) -> None:
        self.limit = limit
        self.sink = sink
        self.buffer = bytearray()
        self.total = 0
        self._pending = b""

    def feed(self, data: bytes) -> bool:
        """Add data; False once the limit is passed (the caller then kills the run)."""
        self.total += len(data)
        room = self.limit + 4096 - len(self.buffer)  # a little room for the report line
        if room > 0:
            self.buffer += data[:room]
        if self.sink is not None:
            lines = (self._pending + data).split(b"\n")
            self._pending = lines.pop()[-8192:]
            for line in lines:
                if not line.startswith(MARKER):
                    self.sink(line.decode("utf-8", "replace")[:1000])
        return self.total <= self.limit + 4096


def pump(
    source: Any, read: Callable[[], bytes], deadline: float, feed: Callable[[bytes], bool], raw: RawRun
) -> None:
    """Read ``source`` until end of file, the wall-clock ``deadline`` (sets ``raw.timed_out``) or
    until ``feed`` refuses more (sets ``raw.output_too_large``); the caller then kills the run."""
    # a selector, not select(): select() refuses descriptors past 1023, which a long-lived process
    # with many files open (a dashboard, the MCP server, a test session) reaches
    with selectors.DefaultSelector() as selector:
        selector.register(source, selectors.EVENT_READ)
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raw.timed_out = True
                return
            if not selector.select(min(remaining, 0.5)):
                continue
            data = read()
            if not data:
                return
            if not feed(data):
                raw.output_too_large = True
                return
