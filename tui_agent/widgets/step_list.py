"""The TDD checklist of the tool being made: each step ticks as it finishes, and repair
shows its attempt number."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from tui_agent.core.events import PlanMade, PlanStepDone, SynthesisStep

STEPS = (
    ("spec", "Spec"),
    ("tests", "Tests"),
    ("gates", "Fail on stub"),
    ("implementation", "Implement"),
    ("verify", "Verify"),
    ("register", "Register"),
)
MARKS = {"pending": "○", "started": "◌", "done": "✓", "failed": "✗"}
STYLES = {"pending": "$text-muted", "started": "$accent", "done": "$success", "failed": "$error"}


class StepList(Static):
    DEFAULT_CSS = """
    StepList { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.request_id = ""
        self.status: dict[str, str] = {}
        self.attempt = 1
        self.detail = ""
        self.plan: list[str] = []  # a plan's steps, as shown
        self.plan_state: dict[int, tuple[str, str]] = {}  # step -> (status, value shown)
        self._shape: tuple[int, str] = (0, "")

    def on_mount(self) -> None:
        self.refresh_steps()

    def reset(self, request_id: str) -> None:
        self.request_id = request_id
        self.status = {}
        self.attempt = 1
        self.detail = ""

    def apply(self, event: SynthesisStep) -> None:
        if event.step == "spec" and event.status == "started":
            self.reset(event.request_id)
        elif event.request_id != self.request_id:
            return
        step = "implementation" if event.step == "repair" else event.step
        if event.step in ("implementation", "repair") and event.status == "started":
            self.status.pop("verify", None)
        self.attempt = max(self.attempt, event.attempt)
        self.status[step] = event.status
        self.detail = event.detail if event.status == "failed" else ""
        self.refresh_steps()

    def apply_plan(self, event: PlanMade | PlanStepDone) -> None:
        """A plan's steps, each ticked as it runs (a new step's own TDD steps tick above)."""
        if isinstance(event, PlanMade):
            self.plan = [s["tool"] if s["tool"] != "new" else f"new: {s['request']}" for s in event.steps]
            self.plan_state = {}
        else:
            shown = repr(event.value)[:40] if event.status == "done" else event.detail[:60]
            self.plan_state[event.index] = (event.status, shown)
        self.refresh_steps()

    def state_of(self, step: str) -> str:
        return self.status.get(step, "pending")

    def refresh_steps(self) -> None:
        parts: list[Content] = [
            Content.from_markup("[b]Making a tool[/b]" if self.status else "[dim]No tool being made[/dim]")
        ]
        for key, label in STEPS:
            state = self.state_of(key)
            suffix = (
                f" (attempt {self.attempt})"
                if key in ("implementation", "verify") and self.attempt > 1
                else ""
            )
            parts.append(
                Content.from_markup(
                    f"[{STYLES[state]}]{MARKS[state]} $label$suffix", label=label, suffix=suffix
                )
            )
        if self.detail:
            parts.append(Content.from_markup("[$error]$detail", detail=self.detail[:200]))
        if self.plan:
            parts.append(Content.from_markup("[b]Plan[/b]"))
            for index, label in enumerate(self.plan, 1):
                state, shown = self.plan_state.get(index, ("pending", ""))
                parts.append(
                    Content.from_markup(
                        f"[{STYLES[state]}]{MARKS[state]} $n. $label $shown",
                        n=str(index),
                        label=label[:60],
                        shown=f"= {shown}" if state == "done" else shown,
                    )
                )
        # the same lines (the wrapped detail aside): a repaint will do, no relayout of the screen
        shape = (len(parts), self.detail + "".join(s for s, _ in self.plan_state.values()))
        self.update(Content("\n").join(parts), layout=shape != self._shape)
        self._shape = shape
