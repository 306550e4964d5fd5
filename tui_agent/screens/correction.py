"""The correction form: "the right answer is ...", and the arguments it is for (prefilled with the
call that answered). Returns a Correction, or None when the person leaves it."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True)
class Correction:
    tool: str
    args: dict[str, Any]
    expected: Any
    request: str


def read_value(text: str) -> Any:
    """What a person typed as an answer: JSON when it reads as JSON (45, true, [1, 2]), else the text."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


class CorrectionScreen(ModalScreen["Correction | None"]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "leave", "Leave it", id="correction.leave"),
    ]

    def __init__(self, tool: str, args: dict[str, Any], value: Any, request: str) -> None:
        super().__init__()
        self.tool, self.args, self.value, self.request = tool, args, value, request

    def compose(self) -> ComposeResult:
        with Vertical(id="correction-box"):
            yield Static(
                f"{self.tool} answered {json.dumps(self.value, ensure_ascii=False)}. The right answer is:",
                id="correction-question",
            )
            yield Input(placeholder='the right answer (45, "text", [1, 2], true)', id="correction-expected")
            yield Label("for the arguments (JSON):")
            yield Input(json.dumps(self.args, ensure_ascii=False), id="correction-args")
            yield Static("", id="correction-error")
            with Horizontal(id="correction-buttons"):
                yield Button("Correct it (enter)", variant="primary", id="correction-ok")
                yield Button("Leave it (escape)", id="correction-cancel")

    def on_mount(self) -> None:
        self.query_one("#correction-expected", Input).focus()

    @on(Input.Submitted)
    @on(Button.Pressed, "#correction-ok")
    def _submit(self) -> None:
        expected_text = self.query_one("#correction-expected", Input).value.strip()
        if not expected_text:
            self.query_one("#correction-error", Static).update("Type the right answer first.")
            return
        try:
            args = json.loads(self.query_one("#correction-args", Input).value or "{}")
        except json.JSONDecodeError as exc:
            self.query_one("#correction-error", Static).update(f"The arguments are not JSON: {exc.msg}")
            return
        if not isinstance(args, dict):
            self.query_one("#correction-error", Static).update("The arguments must be a JSON object.")
            return
        self.dismiss(Correction(self.tool, args, read_value(expected_text), self.request))

    @on(Button.Pressed, "#correction-cancel")
    def action_leave(self) -> None:
        self.dismiss(None)
