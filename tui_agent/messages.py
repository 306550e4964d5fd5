"""Textual messages between the screens and the app, which alone talks to the engine."""

from __future__ import annotations

from dataclasses import dataclass

from textual.message import Message

from tui_agent.widgets.code_viewer import CodeViewer


@dataclass
class ToolAction(Message):
    """A screen asks the app to ``open``, ``test`` or ``remove`` a tool, or to ``pull`` the
    library's remotes (``name`` empty). ``viewer`` is where
    test output streams (the dashboard's or the tool screen's)."""

    action: str
    name: str | None
    viewer: CodeViewer | None = None


@dataclass
class QuerySubmitted(Message):
    text: str


class CancelRequested(Message):
    pass


@dataclass
class LearnRequested(Message):
    """The person asks to correct the last answer (``fix``) or repair the tool that just failed
    (``repair``); the app opens the form or starts the work."""

    action: str
