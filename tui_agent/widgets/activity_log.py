"""The live activity log: one line per engine event, bounded, written in slices so a flood of
events never stalls the event loop, and scrolled only when the reader is already at the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable

from rich.style import Style
from rich.text import Text
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import RichLog

from tui_agent.core.events import Event
from tui_agent.widgets.log_lines import LogLine, describe
from tui_agent.widgets.theme_colours import theme_style

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

SLICE = 12  # lines written before yielding to the event loop (~0.3 ms each)


class ActivityLog(RichLog):
    """The log's own size never depends on its lines: the vertical scrollbar is always there
    and long lines are clipped. So a new line needs no relayout of the screen (a full repaint,
    20-40 ms on two cores); only the log repaints and its scrollbar is updated in place."""

    DEFAULT_CSS = """
    ActivityLog { background: $surface; scrollbar-size-vertical: 1; overflow-x: hidden; overflow-y: scroll; }
    """

    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    def watch_virtual_size(self, size: Size) -> None:
        self._scroll_update(size)

    def __init__(self, *, max_lines: int = 2000, id: str | None = None) -> None:
        super().__init__(max_lines=max_lines, wrap=False, markup=False, highlight=False, id=id)
        self._styles: dict[str, Style] = {}
        self.written = 0

    def on_mount(self) -> None:
        self.app.theme_changed_signal.subscribe(self, lambda _theme: self._styles.clear())

    def _style(self, kind: str) -> Style:
        if not self._styles:
            for name, variable in KIND_COLOURS.items():
                self._styles[name] = theme_style(self.app, variable, bold=name in ("answer", "query"))
        return self._styles.get(kind, Style())

    def format_line(self, line: LogLine, ts: float) -> Text:
        stamp = time.strftime("%H:%M:%S", time.localtime(ts))
        text = Text(f"{stamp} ", style=self._style("muted"))
        text.append(f"{line.icon} {line.text}", style=self._style(line.kind))
        return text

    def add_lines(self, lines: list[tuple[LogLine, float]]) -> None:
        """One write for several lines: one render call, one scrollbar update, one repaint."""
        if not lines:
            return
        at_end = self.is_vertical_scroll_end or self.max_scroll_y == 0
        text = Text("\n").join(self.format_line(line, ts) for line, ts in lines)
        self.write(text, scroll_end=at_end)
        self.written += len(lines)

    async def add_events(self, events: Iterable[Event]) -> None:
        """Write ``events`` in slices, yielding between them."""
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
