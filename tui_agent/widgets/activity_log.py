"""The live activity log: one line per engine event, bounded, rendered only when on screen, and
scrolled only when the reader is already at the end."""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.strip import Strip

from tui_agent.core.events import Event
from tui_agent.widgets.steady_scroll import SteadyScrollView
from tui_agent.widgets.theme_colours import theme_style
from tui_agent.wording import LogLine, describe

# kind -> theme variable; resolved against the running theme, so colours follow it.
KIND_COLOURS = {
    "info": "foreground",
    "query": "accent",
    "step": "primary",
    "success": "success",
    "error": "error",
    "warning": "warning",
    "muted": "foreground-muted",
    "answer": "success",
}

SLICE = 32  # events described before yielding to the event loop


class ActivityLog(SteadyScrollView, can_focus=True):
    """The last ``max_lines`` entries, each rendered only when it is on screen: a flood of a
    thousand events costs a thousand list appends, not a thousand renders, and never a
    relayout of the screen (see SteadyScrollView)."""

    DEFAULT_CSS = """
    ActivityLog { background: $surface; scrollbar-size-vertical: 1; overflow-x: hidden; overflow-y: scroll; }
    """

    def __init__(self, *, max_lines: int = 2000, id: str | None = None) -> None:
        super().__init__(id=id)
        self._entries: deque[tuple[LogLine, float]] = deque(maxlen=max_lines)
        self._strips: dict[int, Strip] = {}  # by entry number since the start
        self._first = 0  # entry number of _entries[0]
        self._styles: dict[str, Style] = {}
        self.written = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._restyle())

    def _restyle(self) -> None:
        self._styles.clear()
        self._strips.clear()
        self.refresh()

    def _style(self, kind: str) -> Style:
        if not self._styles:
            for name, variable in KIND_COLOURS.items():
                self._styles[name] = theme_style(self.app, variable, bold=name in ("answer", "query"))
        return self._styles.get(kind, Style())

    def _strip(self, number: int) -> Strip:
        strip = self._strips.get(number)
        if strip is None:
            line, ts = self._entries[number - self._first]
            stamp = time.strftime("%H:%M:%S", time.localtime(ts))
            strip = Strip(
                [
                    Segment(f"{stamp} ", self._style("muted")),
                    Segment(f"{line.icon} {line.text}", self._style(line.kind)),
                ]
            )
            self._strips[number] = strip
        return strip

    @property
    def lines(self) -> list[Strip]:
        """Every kept line, rendered (for tests and copies; the screen renders what it shows)."""
        return [self._strip(self._first + i) for i in range(len(self._entries))]

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        base = self.rich_style
        if index >= len(self._entries):
            return Strip.blank(width, base)
        return (
            self._strip(self._first + index).crop_extend(scroll_x, scroll_x + width, base).apply_style(base)
        )

    def add_lines(self, lines: list[tuple[LogLine, float]]) -> None:
        if not lines:
            return
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        overflow = len(self._entries) + len(lines) - (self._entries.maxlen or 0)
        self._entries.extend(lines)
        if overflow > 0:
            for number in range(self._first, self._first + overflow):
                self._strips.pop(number, None)
            self._first += overflow
        self.written += len(lines)
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._entries))
        self.refresh()
        if at_end:
            self.scroll_end(animate=False, immediate=False, x_axis=False)

    async def add_events(self, events: Iterable[Event]) -> None:
        """Describe ``events`` in slices, yielding between them."""
        pending: list[tuple[LogLine, float]] = []
        for event in events:
            line = describe(event)
            if line is None:
                continue
            pending.append((line, event.ts))
            if len(pending) >= SLICE:
                self.add_lines(pending)
                pending = []
                await asyncio.sleep(0)
        self.add_lines(pending)
