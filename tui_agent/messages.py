"""Textual messages between the screens and the app, which alone talks to the engine."""

from __future__ import annotations

from textual.message import Message

from tui_agent.widgets.code_viewer import CodeViewer


class ToolAction(Message):
    """A screen asks the app to ``open``, ``test`` or ``remove`` a tool. ``viewer`` is where
    test output streams (the dashboard's or the tool screen's)."""

    def __init__(self, action: str, name: str | None, viewer: CodeViewer | None = None) -> None:
        super().__init__()
        self.action = action
        self.name = name
        self.viewer = viewer


class QuerySubmitted(Message):
    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text


class CancelRequested(Message):
    pass
