"""One line of state: LLM endpoint and model, its state, sandbox backend, tools, tokens."""

from __future__ import annotations

import time

from textual.content import Content
from textual.widgets import Static

STATE_STYLES = {
    "ready": "$success",
    "starting": "$warning",
    "loading": "$warning",
    "failed": "$error",
    "unreachable": "$error",
    "stopped": "$text-muted",
}
TOKENS_EVERY_S = 0.5


class StatusBar(Static):
    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.endpoint = ""
        self.model = ""
        self.llm_state = "stopped"
        self.sandbox = "…"
        self.tools: int | None = None
        self.tokens = 0
        self.busy = 0
        self._shown_at = 0.0
        self._due = False

    def on_mount(self) -> None:
        self.show()

    def set(self, **values: object) -> None:
        for key, value in values.items():
            setattr(self, key, value)
        if values.keys() != {"tokens"}:
            self.show()
        elif not self._due:
            # every LLM call moves the counter; twice a second is all a reader can follow,
            # and a repaint of this bottom line in the same frame as the log widens the region
            # the compositor redraws to most of the screen
            self._due = True
            self.set_timer(max(0.05, self._shown_at + TOKENS_EVERY_S - time.monotonic()), self.show)

    def show(self) -> None:
        self._due = False
        self._shown_at = time.monotonic()
        style = STATE_STYLES.get(self.llm_state, "$text-muted")
        tools = "…" if self.tools is None else str(self.tools)
        busy = f" │ [$accent]{self.busy} running[/]" if self.busy else ""
        line = Content.from_markup(
            f"$model@$endpoint [{style}]$state[/] │ $sandbox │ $tools tools │ $tokens tok{busy}",
            endpoint=short_endpoint(self.endpoint),
            model=self.model,
            state=self.llm_state,
            sandbox=self.sandbox,
            tools=tools,
            tokens=f"{self.tokens:,}",
        )
        self.update(line, layout=False)  # one line, always: a repaint, never a relayout


def short_endpoint(url: str) -> str:
    """host:port is what tells endpoints apart; the scheme and /v1 only take room."""
    return url.removeprefix("http://").removeprefix("https://").removesuffix("/").removesuffix("/v1")
