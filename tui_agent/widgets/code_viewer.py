"""The code/test viewer: tabs for tool.py, test_tool.py, the spec and the last verification
output. Streamed code is shown (plain) at most a few times a second, so a fast stream costs
the event loop little."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content, Span
from textual.geometry import Size
from textual.highlight import HighlightTheme
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import TabbedContent, TabPane

from tui_agent.core.tool_store import Tool
from tui_agent.widgets.steady_scroll import SteadyScrollView

PANES = (
    ("tool.py", "tab-tool", "python"),
    ("test_tool.py", "tab-tests", "python"),
    ("spec", "tab-spec", "json"),
    ("verification", "tab-verify", None),
)
REFRESH_S = 0.4  # a streamed text is re-split into lines at most this often
MAX_OUTPUT = 60_000


class CodePane(SteadyScrollView, can_focus=True):
    """One scrollable, highlighted text that follows its end while the reader is there.

    Its lines are rendered one visible line at a time, and a growing stream repaints this pane
    only (see SteadyScrollView)."""

    DEFAULT_CSS = """
    CodePane { height: 1fr; overflow-y: auto; overflow-x: auto; scrollbar-size: 1 1; }
    """

    def __init__(self, language: str | None, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.language = language
        self.text = ""
        self._lines: list[Content] = []
        self._strips: dict[int, Strip] = {}
        self._streaming = False
        self._dirty = False
        self._shown_at = 0.0

    def set_text(self, text: str) -> None:
        self.text = text
        self._streaming = False
        self._render_now()

    def append(self, text: str) -> None:
        """Streamed text shows plain, a few times a second; it is highlighted once, when the
        whole file arrives (``set_text``)."""
        self._streaming = True
        self.text += text
        if len(self.text) > MAX_OUTPUT:
            self.text = self.text[-MAX_OUTPUT:]
        if time.monotonic() - self._shown_at >= REFRESH_S:
            self._render_now()
        elif not self._dirty:
            self._dirty = True
            self.set_timer(REFRESH_S, self._render_now)

    def _render_now(self) -> None:
        self._dirty = False
        self._shown_at = time.monotonic()
        self._show(Content(self.text.expandtabs(8)))
        if self.language and self.text and not self._streaming:
            self._highlight(self.text, self.language)

    def _show(self, body: Content) -> None:
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self._lines = body.split("\n") if body else []
        self._strips.clear()
        width = max((line.cell_length for line in self._lines), default=0) + 2  # 1 cell of margin each side
        self.virtual_size = Size(width, len(self._lines))
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.visual_style
        rich_style = style.rich_style
        if index >= len(self._lines):
            return Strip.blank(width, rich_style)
        strip = self._strips.get(index)
        if strip is None:
            line = self._lines[index]
            rendered = Visual.to_strips(self, line, line.cell_length + 1, 1, style)
            strip = Strip.join([Strip.blank(1, rich_style), *rendered[:1]])
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style).apply_offsets(scroll_x, index)

    @work(exclusive=True, group="highlight", exit_on_error=False)
    async def _highlight(self, text: str, language: str) -> None:
        """Highlighting 300 lines is tens of milliseconds of Python. In a thread it would hold
        the GIL against the event loop (every frame then waits for it); here it runs on the
        loop in slices of a few hundred tokens, with the plain text on screen meanwhile."""
        body = await highlight_sliced(text, language)
        self._highlighted(text, body)

    def _highlighted(self, text: str, body: Content) -> None:
        if text == self.text and not self._streaming:  # nothing newer arrived meanwhile
            self._show(body)


class CodeViewer(Vertical):
    DEFAULT_CSS = """
    CodeViewer > TabbedContent { height: 1fr; }
    CodeViewer ContentSwitcher { height: 1fr; }
    CodeViewer TabPane { height: 1fr; padding: 0; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tool_name: str | None = None
        self.streaming_request: str | None = None

    def compose(self) -> ComposeResult:
        with TabbedContent():
            for title, pane_id, language in PANES:
                with TabPane(title, id=pane_id):
                    yield CodePane(language, id=f"{pane_id}-body")

    @property
    def active(self) -> str:
        return self.query_one(TabbedContent).active

    @active.setter
    def active(self, pane_id: str) -> None:
        self.query_one(TabbedContent).active = pane_id

    def pane(self, file: str) -> CodePane:
        for title, pane_id, _language in PANES:
            if title == file:
                return self.query_one(f"#{pane_id}-body", CodePane)
        raise KeyError(file)

    def show_tool(self, tool: Tool) -> None:
        self.tool_name = tool.name
        self.streaming_request = None
        record = tool.record
        self.pane("tool.py").set_text(tool.tool_source)
        self.pane("test_tool.py").set_text(tool.test_source)
        self.pane("spec").set_text(json.dumps(record.spec, indent=2, ensure_ascii=False))
        self.pane("verification").set_text(verification_text(record.verdict))
        self.border_title = f"{record.name} v{record.version}"

    def stream(self, request_id: str, file: str, text: str, replace: bool) -> None:
        """Code from a synthesis in progress; the first chunk of a request takes the viewer over."""
        if self.streaming_request != request_id:
            self.streaming_request = request_id
            self.tool_name = None
            for title, _pane_id, _language in PANES:
                if self.pane(title).text:
                    self.pane(title).set_text("")
            self.border_title = "writing a new tool…"
        pane = self.pane(file if file in ("tool.py", "test_tool.py", "spec") else "tool.py")
        if replace:
            pane.set_text(text)
        else:
            pane.append(text)
        if file != "spec":
            self.active = "tab-tool" if file == "tool.py" else "tab-tests"

    def begin_output(self, title: str) -> None:
        self.pane("verification").set_text(f"{title}\n")
        self.active = "tab-verify"

    def add_output(self, line: str) -> None:
        self.pane("verification").append(line if line.endswith("\n") else line + "\n")


async def highlight_sliced(code: str, language: str, slice_tokens: int = 300) -> Content:
    """``textual.highlight.highlight``, yielding to the event loop every ``slice_tokens`` tokens."""
    try:
        lexer = get_lexer_by_name(language, stripnl=False, ensurenl=True, tabsize=8)
    except ClassNotFound:
        return Content(code)
    code = "\n".join(code.splitlines())
    styles = HighlightTheme.STYLES
    spans: list[Span] = []
    start = 0
    for count, (token_type, token) in enumerate(lexer.get_tokens(code), 1):
        end = start + len(token)
        kind: Any = token_type
        while kind is not None:
            if style := styles.get(kind):
                spans.append(Span(start, end, style))
                break
            kind = kind.parent
        start = end
        if count % slice_tokens == 0:
            await asyncio.sleep(0)
    return Content(code, spans=spans).stylize_before("$text")


def verification_text(verdict: dict[str, Any] | None) -> str:
    if not verdict:
        return "not verified yet"
    counts = verdict.get("counts") or {}
    state = (
        "PASSED"
        if verdict.get("passed")
        else f"FAILED ({verdict.get('reason')}): {verdict.get('detail', '')}"
    )
    head = (
        f"{state}: {counts.get('passed', 0)}/{counts.get('collected', 0)} tests in "
        f"{verdict.get('duration_s', 0):.2f}s on {verdict.get('backend', '?')}\n\n"
    )
    return head + (verdict.get("output") or "")
