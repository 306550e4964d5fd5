"""One line of state: LLM endpoint and model, its state, sandbox backend, tools, tokens."""

from __future__ import annotations

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

    def on_mount(self) -> None:
        self.show()

    def set(self, **values: object) -> None:
        for key, value in values.items():
            setattr(self, key, value)
        self.show()

    def show(self) -> None:
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
