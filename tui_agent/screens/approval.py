"""Before a newly made tool runs for the first time: its code, tests, spec and verdict, and a
yes or no. Awaited inside the request's worker (``push_screen_wait``)."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Static

from tui_agent.core.tool.record import Tool
from tui_agent.screens.confirm import YesNoScreen
from tui_agent.widgets.code_viewer import CodeViewer
from tui_agent.widgets.tool_tree import ToolEntry


class ApprovalScreen(YesNoScreen):
    YES_BUTTON = "approval-yes"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Run it"),
        Binding("n,escape", "answer(False)", "Don't run"),
    ]

    def __init__(self, tool: Tool) -> None:
        super().__init__()
        self.tool = tool

    def compose(self) -> ComposeResult:
        record = self.tool.record
        entry = ToolEntry.of(record)
        tests = f"{entry.tests} passed" if record.verified else "NOT verified"
        with Vertical(id="approval-box"):
            yield Static(
                Content.from_markup(
                    "[b]$name[/b] v$version is new: $tests in the sandbox. Run it for this request?",
                    name=record.name,
                    version=str(record.version),
                    tests=tests,
                ),
                id="approval-question",
            )
            yield CodeViewer(id="approval-viewer")
            with Horizontal(id="approval-buttons"):
                yield Button("Run it (y)", variant="success", id="approval-yes")
                yield Button("Don't run (n)", variant="error", id="approval-no")

    def on_mount(self) -> None:
        self.query_one("#approval-viewer", CodeViewer).show_tool(self.tool)
        self.query_one("#approval-no", Button).focus()
