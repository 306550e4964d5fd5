"""What the flow hands around: the decision for a request (and why), the request in flight, and
its outcome."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tui_agent.core.flow.bookkeeping import one_line
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.grounding import Grounding
from tui_agent.core.flow.kinds import Choice, Ending, Route
from tui_agent.core.library.index import SearchResult

__all__ = ["Choice", "Decision", "Ending", "Outcome", "Request", "Route", "one_line"]


@dataclass
class Outcome:
    """How a request ended (``kind``) and which way (``path``)."""

    request_id: str
    kind: Ending
    text: str
    path: Route
    tool: str | None = None
    value: Any = None
    verified: bool = False
    llm_calls: int = 0
    tokens: int = 0
    attempts: int = 0
    notes: list[str] = field(default_factory=list)
    args: dict[str, Any] = field(default_factory=dict)  # the call that gave ``value``
    steps: list[dict[str, Any]] = field(default_factory=list)  # a plan's steps, each with its value


@dataclass
class Decision:
    """What the agent would do with a request, and why: ``checked`` holds each candidate's
    prepared call (its checks, its arguments, and its run when the request's answer was
    computed); ``prepared`` the one it would make."""

    decision: Choice
    tool: str | None
    reason: str
    search: SearchResult
    checked: list[Execution] = field(default_factory=list)
    prepared: Execution | None = None  # VALUE when it already ran (and agreed) for the decision
    grounding: Grounding | None = None  # what the request works out to, computed apart

    @property
    def score(self) -> float:
        return next((c.score for c in self.search.candidates if c.name == self.tool), 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "decision": self.decision,
            "tool": self.tool,
            "reason": self.reason,
            "grounding": self.grounding.to_dict() if self.grounding else None,
            "search": self.search.to_dict(),
            "checked": [
                {
                    "tool": p.tool,
                    "outcome": p.kind,
                    "message": p.message,
                    "fit": p.judgement.to_dict() if p.judgement else None,
                    "args": p.args,
                    "value": p.value,
                }
                for p in self.checked
            ],
            "args": self.prepared.args if self.prepared else None,
        }


@dataclass
class Request:
    """One request in flight: where it is (for a failure message) and whether it has ended."""

    rid: str
    text: str
    stage: str = "searching the library"
    ended: bool = False
    step: bool = False  # a step of a plan: it is answered by one tool, never by another plan

    def at(self, stage: str) -> None:
        self.stage = stage
