"""What a synthesis step may use, and nothing more: the model, the sandbox, the settings and a
reporter for its steps. Every step of this room (drafting, tests, code, opinions, agreement,
repair) takes a Workbench, never the engine: no step reaches the flow or the search index, and
nothing here imports the engine, so the room has no loops."""

from __future__ import annotations

from dataclasses import dataclass

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import CodeChunk, Event, SandboxOutput, SynthesisStep
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.sandbox import Sandbox


@dataclass(frozen=True)
class Reporter:
    """Steps, code and sandbox-log lines of one synthesis, as events (nothing without a bus)."""

    bus: EventBus | None = None

    def step(self, request_id: str, step: str, status: str, attempt: int = 1, detail: str = "") -> None:
        if self.bus is not None:
            self.bus.publish(
                SynthesisStep(
                    step=step, status=status, attempt=attempt, detail=detail[:300], request_id=request_id
                )
            )

    def code(self, request_id: str, file: str, text: str, *, replace: bool = True) -> None:
        if self.bus is not None:
            self.bus.publish(CodeChunk(file=file, text=text, replace=replace, request_id=request_id))

    def publish(self, event: Event) -> None:
        if self.bus is not None:
            self.bus.publish(event)

    def say(self, request_id: str, line: str) -> None:
        """A line in the sandbox's log, beside the verdicts it explains."""
        if self.bus is not None:
            self.bus.publish(SandboxOutput(line=line, request_id=request_id))


@dataclass(frozen=True)
class Workbench:
    llm: LLMClient
    sandbox: Sandbox
    settings: Settings
    report: Reporter
