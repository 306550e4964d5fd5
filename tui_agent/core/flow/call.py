"""One call of one tool for one request, as it goes from prepared to run."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_agent.core.flow.fit import Judgement
from tui_agent.core.flow.kinds import CallState


@dataclass
class Execution:
    """``kind`` says where the call stands (:class:`CallState`); ``message`` why, for a question,
    a misfit, a refusal or an error."""

    kind: CallState
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    message: str = ""
    missing: list[str] = field(default_factory=list)
    judgement: Judgement | None = None
    files: dict[str, Path] = field(default_factory=dict)  # parameter -> the host file it reads
    outside: list[Path] = field(default_factory=list)  # files that need a person's yes
