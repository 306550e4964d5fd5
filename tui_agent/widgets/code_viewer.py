"""The code/test viewer: tabs for tool.py, test_tool.py, the spec and the last verification
output. Streamed code is shown (plain) at most a few times a second, so a fast stream costs
the event loop little."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content, Span
from textual.geometry import Size
from textual.highlight import HighlightTheme
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Tab, Tabs

from tui_agent.core.tool.record import Tool
from tui_agent.widgets.steady_scroll import SteadyScrollView

PANES = (
    ("tool.py", "tab-tool", "python"),
    ("test_tool.py", "tab-tests", "python"),
    ("spec", "tab-spec", "json"),
    ("verification", "tab-verify", None),
)
TITLES = {tab_id: title for title, tab_id, _language in PANES}
REFRESH_S = 0.4  # a streamed text is re-split into lines at most this often
MAX_OUTPUT = 60_000


@dataclass
class Document:
    """One tab's text, kept whether or not its tab is shown."""

    language: str | None
    text: str = ""
    lines: list[Content] = field(default_factory=list)
    stale: bool = False  # text is newer than lines
    streaming: bool = False
    scroll_y: int | None = None  # None: at the end, follow it


class CodePane(SteadyScrollView, can_focus=True):
    """Shows one document at a time, highlighted, following its end while the reader is there.

    Switching tabs swaps the document in this one pane: showing and hiding panes would relayout
    the screen at every switch, and a synthesis switches four times in a few seconds. Lines are
    rendered one visible line at a time, and a growing stream repaints this pane only."""

    DEFAULT_CSS = """
    CodePane { height: 1fr; overflow-y: scroll; overflow-x: auto; scrollbar-size: 1 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.documents = {title: Document(language) for title, _tab, language in PANES}
        self.shown = PANES[0][0]
        self._strips: dict[int, Strip] = {}
        self._due: set[str] = set()  # documents with a redraw timer running
        self._shown_at: dict[str, float] = {}

    def show(self, title: str) -> None:
        if title == self.shown:
            return
        old = self.documents[self.shown]
        old.scroll_y = None if self._at_end() else round(self.scroll_y)
        self.shown = title
        self._display(self.documents[title], restore=True)

    def set_text(self, title: str, text: str) -> None:
        doc = self.documents[title]
        doc.text, doc.streaming, doc.stale = text, False, True
        self._redraw(title)

    def append(self, title: str, text: str) -> None:
        """Streamed text shows plain, a few times a second; it is highlighted once, when the
        whole file arrives (``set_text``)."""
        doc = self.documents[title]
        doc.streaming, doc.stale = True, True
        doc.text += text
        if len(doc.text) > MAX_OUTPUT:
            doc.text = doc.text[-MAX_OUTPUT:]
        if time.monotonic() - self._shown_at.get(title, 0.0) >= REFRESH_S:
            self._redraw(title)
        elif title not in self._due:
            self._due.add(title)
            self.set_timer(REFRESH_S, lambda: self._redraw(title))

    def _redraw(self, title: str) -> None:
        """A hidden document is split into lines only when its tab opens (``_display``)."""
        self._due.discard(title)
        self._shown_at[title] = time.monotonic()
        doc = self.documents[title]
        if title == self.shown:
            self._display(doc)
        if doc.language and doc.text and not doc.streaming:
            self.run_worker(
                self._highlight(title, doc.text, doc.language),
                group=f"highlight-{title}",
                exclusive=True,
                exit_on_error=False,
            )

    def _at_end(self) -> bool:
        return self.is_vertical_scroll_end or self.max_scroll_y == 0

    def _display(self, doc: Document, restore: bool = False) -> None:
        if doc.stale:
            doc.lines, doc.stale = split_lines(Content(doc.text.expandtabs(8))), False
        follow = doc.scroll_y is None if restore else self._at_end()
        self._strips.clear()
        width = max((line.cell_length for line in doc.lines), default=0) + 2  # 1 cell of margin each side
        self.virtual_size = Size(width, len(doc.lines))
        self.refresh()
        if follow:
            self.scroll_end(animate=False, immediate=True, x_axis=False)
        elif restore:
            self.scroll_to(0, doc.scroll_y, animate=False, immediate=True)

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        index = scroll_y + y
        width = self.scrollable_content_region.width
        style = self.visual_style
        rich_style = style.rich_style
        lines = self.documents[self.shown].lines
        if index >= len(lines):
            return Strip.blank(width, rich_style)
        strip = self._strips.get(index)
        if strip is None:
            line = lines[index]
            rendered = Visual.to_strips(self, line, line.cell_length + 1, 1, style)
            strip = Strip.join([Strip.blank(1, rich_style), *rendered[:1]])
            self._strips[index] = strip
        return strip.crop_extend(scroll_x, scroll_x + width, rich_style).apply_offsets(scroll_x, index)

    async def _highlight(self, title: str, text: str, language: str) -> None:
        """Highlighting 300 lines is tens of milliseconds of Python. In a thread it would hold
        the GIL against the event loop (every frame then waits for it); here it runs on the
        loop in slices of a few hundred tokens, with the plain text on screen meanwhile."""
        body = await highlight_sliced(text, language)
        doc = self.documents[title]
        if text == doc.text and not doc.streaming:  # nothing newer arrived meanwhile
            doc.lines, doc.stale = split_lines(body), False
            if title == self.shown:
                self._display(doc)


class DocumentView:
    """One tab of a CodeViewer, addressed by file name: what callers write to and read."""

    def __init__(self, body: CodePane, title: str) -> None:
        self._body, self._title = body, title

    @property
    def text(self) -> str:
        return self._body.documents[self._title].text

    def set_text(self, text: str) -> None:
        self._body.set_text(self._title, text)

    def append(self, text: str) -> None:
        self._body.append(self._title, text)


class CodeViewer(Vertical):
    DEFAULT_CSS = """
    CodeViewer > Tabs { height: 2; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.tool_name: str | None = None
        self.streaming_request: str | None = None

    def compose(self) -> ComposeResult:
        yield Tabs(*(Tab(title, id=tab_id) for title, tab_id, _language in PANES))
        yield CodePane()

    @property
    def body(self) -> CodePane:
        return self.query_one(CodePane)

    @property
    def active(self) -> str:
        return self.query_one(Tabs).active

    @property
    def shown(self) -> str:
        """The file whose tab is shown (tool.py, test_tool.py, spec or verification)."""
        return TITLES.get(self.active, "tool.py")

    @active.setter
    def active(self, tab_id: str) -> None:
        self.query_one(Tabs).active = tab_id
        self.body.show(TITLES[tab_id])  # at once: the Tabs' message comes a moment later

    @on(Tabs.TabActivated)
    def _switch(self, message: Tabs.TabActivated) -> None:
        message.stop()
        if message.tab.id in TITLES:
            self.body.show(TITLES[message.tab.id])

    def pane(self, file: str) -> DocumentView:
        if file not in TITLES.values():
            raise KeyError(file)
        return DocumentView(self.body, file)

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


def split_lines(body: Content) -> list[Content]:
    return body.split("\n") if body else []


def warm_highlighting() -> None:
    """Pygments compiles a lexer's rules the first time the lexer is made: tens of milliseconds
    that would otherwise land on the first frame that highlights. Run once, off the loop."""
    for _title, _pane_id, language in PANES:
        if language:
            list(get_lexer_by_name(language).get_tokens("x = 1\n"))


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
        f"{state}: {counts.get('passed', 0)}/{counts.get('collected', 0)} cases in "
        f"{verdict.get('duration_s', 0):.2f}s on {verdict.get('backend', '?')}, judged on the host\n\n"
    )
    cases = [
        f"{'✓' if t.get('outcome') == 'passed' else '✗'} {t.get('name', '?')}: {t.get('message') or 'passed'}"
        for t in verdict.get("tests") or []
        if isinstance(t, dict)
    ]
    output = verdict.get("output") or ""
    return head + "\n".join(cases) + (f"\n\nthe tool printed:\n{output}" if output.strip() else "")
