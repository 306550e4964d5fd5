"""The latest answer (or question, or failure), in plain words above the log."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

KINDS = {
    "answer": "$success",
    "question": "$warning",
    "failed": "$error",
    "working": "$accent",
    "idle": "$text-muted",
}


class AnswerView(Static):
    DEFAULT_CSS = """
    AnswerView { height: auto; max-height: 5; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.kind = "idle"
        self.text = ""
        self._rows = -1

    def on_mount(self) -> None:
        self.say("idle", "Type a request below; the answer appears here.")

    def say(self, kind: str, text: str) -> None:
        self.kind, self.text = kind, text
        label = {"answer": "Answer", "question": "Question", "failed": "No answer", "working": "Working"}.get(
            kind, ""
        )
        prefix = f"[b {KINDS[kind]}]{label}:[/] " if label else f"[{KINDS['idle']}]"
        # a streaming answer grows a word at a time: relayout the screen only when it may need
        # another line (a relayout repaints everything, ~20 ms on two cores)
        width = max(1, self.size.width - 2)
        rows = (len(label) + 2 + len(text)) // width + text.count("\n")
        self.update(Content.from_markup(prefix + "$text", text=text), layout=rows != self._rows)
        self._rows = rows
