"""What one synthesis hands back, and how it stops early."""

from __future__ import annotations

from dataclasses import dataclass, field

from tui_agent.core.sandbox import Verdict
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec


@dataclass
class SynthesisResult:
    """``ok`` with a verified tool; otherwise ``reason``. ``existing``: the drafted spec names a
    tool the library has, and the synthesis stopped there for the flow to try that tool first
    (``spec`` is the draft to go on from if it does not serve)."""

    ok: bool
    reason: str = ""
    spec: ToolSpec | None = None
    tool_source: str = ""
    test_source: str = ""
    verdict: Verdict | None = None
    record: ToolRecord | None = None
    attempts: int = 0
    test_fixes: list[str] = field(default_factory=list)
    cases: list[TestCase] = field(default_factory=list)
    existing: str | None = None
    disputed: list[str] = field(default_factory=list)  # cases set aside, and why


class SynthesisFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step
