"""One tool, full screen: what it is, its code, tests, spec and last verification, with the
keys to rerun its tests or remove it."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from tui_agent.core.tool.record import Tool
from tui_agent.messages import ToolAction
from tui_agent.widgets.code_viewer import CodeViewer
from tui_agent.widgets.tool_tree import VERDICT_MARKS, ToolEntry


class ToolScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back", id="tool.back"),
        Binding("t", "test", "Rerun tests", id="tool.test"),
        Binding("d", "remove", "Remove", id="tool.remove"),
    ]

    def __init__(self, name: str) -> None:
        super().__init__()
        self.tool_name = name

    def compose(self) -> ComposeResult:
        yield Static(Content(f"{self.tool_name} (loading…)"), id="tool-header")
        yield CodeViewer(id="tool-viewer")
        yield Footer()

    @property
    def viewer(self) -> CodeViewer:
        return self.query_one("#tool-viewer", CodeViewer)

    def show(self, tool: Tool) -> None:
        entry = ToolEntry.of(tool.record)
        mark, colour = VERDICT_MARKS[entry.verdict]
        header = Content.from_markup(
            f"[b]$signature[/b]  [dim]v$version[/dim] [${colour}]{mark}[/] $tests [dim]used $uses×, $source[/dim]\n$description",
            signature=entry.signature,
            version=str(entry.version),
            tests=entry.tests,
            uses=str(entry.uses),
            source=tool.record.source,
            description=entry.description,
        )
        self.query_one("#tool-header", Static).update(header)
        self.viewer.show_tool(tool)

    def action_test(self) -> None:
        self.post_message(ToolAction("test", self.tool_name, self.viewer))

    def action_remove(self) -> None:
        self.post_message(ToolAction("remove", self.tool_name))
