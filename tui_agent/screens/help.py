"""F1 / ? help: every key the dashboard answers to, taken from the bindings themselves so the
list cannot drift from what the keys do."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = (
    "Type a request in the query box. selfeng-tui reuses a tool from its library when one fits, "
    "or writes one test-first (spec, tests that must fail on a stub, implementation), proves it in "
    "the sandbox, and only then answers with the value that tool computed."
)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape,q,question_mark,f1", "dismiss", "Close help")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-box") as box:
            box.border_title = "Help"
            box.border_subtitle = "escape to close"
            yield Static(INTRO, id="help-intro")
            rows = [
                Content.from_markup("[b $accent]$key[/] $what", key=key.ljust(12), what=what)
                for key, what in self.keys
            ]
            yield Static(Content("\n").join(rows), id="help-keys")

    async def action_dismiss(self, result: None = None) -> None:
        self.dismiss(result)
