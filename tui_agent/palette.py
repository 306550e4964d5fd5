"""Help rows and command-palette entries: every action with a "group: action" name, and every
tool by name (posting's context-aware palette)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

from textual.app import SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message

from tui_agent.messages import ToolAction
from tui_agent.screens.dashboard import DashboardScreen
from tui_agent.screens.tool_detail import ToolScreen


class PaletteHost(Protocol):
    """What the palette needs of the app (the app module imports this one, not the reverse)."""

    BINDINGS: list[BindingType]
    dashboard: DashboardScreen

    def get_key_display(self, binding: Binding) -> str: ...
    def post_message(self, message: Message) -> bool: ...
    def action_cancel(self) -> Any: ...
    def action_help(self) -> Any: ...


EXTRA_HELP = [
    ("up / down", "walk the query history (in the query box)"),
    ("enter", "send the query / open the tool under the cursor"),
    ("typing", "filters the library while it has focus (bound keys keep their action)"),
    ("tab", "move between the query, the library and the viewer"),
    ("ctrl+p", "command palette: every action and every tool by name"),
]


def key_help(app: PaletteHost) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    for bindings in (DashboardScreen.BINDINGS, ToolScreen.BINDINGS, app.BINDINGS):
        for binding in bindings:
            if isinstance(binding, Binding):
                key = binding.key_display or app.get_key_display(binding)
                row = (key, binding.description)
                if row not in rows:
                    rows.append(row)
    return rows + EXTRA_HELP


def tool_commands(app: PaletteHost) -> Iterable[SystemCommand]:
    dash = app.dashboard
    yield SystemCommand("Query: focus the query box", "Type a request", dash.action_focus_query)
    yield SystemCommand("Request: cancel", "Cancel running requests", app.action_cancel)
    yield SystemCommand("Library: test the selected tool", "Rerun its tests in the sandbox", dash.action_test)
    yield SystemCommand("Library: remove the selected tool", "After confirmation", dash.action_remove)
    yield SystemCommand("Help: keys", "Every key and what it does", app.action_help)
    for name in (e.name for e in dash.library.entries):  # already sorted by name
        yield SystemCommand(
            f"Tool: open {name}",
            "Code, tests, spec and verification",
            lambda n=name: app.post_message(ToolAction("open", n)),
        )
        yield SystemCommand(
            f"Tool: test {name}",
            "Rerun its tests in the sandbox",
            lambda n=name: app.post_message(ToolAction("test", n, app.dashboard.viewer)),
        )
