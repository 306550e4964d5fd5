"""What a sandbox run gives back: typed results, limits and errors. Plain data."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from tui_agent.core.events import VerdictReady
from tui_agent.core.tool.cases import Outcome


class Reason(StrEnum):
    """Why a run is not green. RAISED is only for calls: the tool itself raised. CRASH covers a
    tool that does not even import; REJECTED a source the gate refused or a report that is not
    one we can read (more than one, or not matching the cases). UNVERIFIED is only for calls: a
    verified case run in the same call came out otherwise, so the answer is not trusted."""

    TIMEOUT = "TIMEOUT"
    MEMORY = "MEMORY"
    CRASH = "CRASH"
    OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE"
    NO_REPORT = "NO_REPORT"
    COUNT_MISMATCH = "COUNT_MISMATCH"
    TESTS_FAILED = "TESTS_FAILED"
    REJECTED = "REJECTED"
    RAISED = "RAISED"
    UNVERIFIED = "UNVERIFIED"  # a call whose verified cases, run beside it, did not come out as verified


class SandboxError(Exception):
    """The sandbox itself could not run (no engine, no image): nothing untrusted was run."""


class SandboxUnavailable(SandboxError):
    pass


class InputRefused(SandboxError):
    """A file a call was to read could not be given to it (gone, not regular, past the limit)."""


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 20.0
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 64
    tmp_mb: int = 16
    output_bytes: int = 256 * 1024
    input_bytes: int = 50 * 1024 * 1024  # the largest file a call may be given


@dataclass(frozen=True)
class TestOutcome:
    """One case, judged on the host: ``outcome`` passed | failed (a wrong value or exception) |
    error (no usable outcome: timed out, not JSON data, never ran)."""

    name: str
    outcome: str
    message: str = ""
    observed: Outcome | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"name": self.name, "outcome": self.outcome, "message": self.message}
        if self.observed is not None:
            data["observed"] = self.observed.to_dict()
        return data


@dataclass(frozen=True)
class CaseRun:
    """What the runner reported for a list of calls, before anyone judges it: one outcome per
    case ("missing" where the run ended first), and why the run as a whole failed, if it did."""

    outcomes: tuple[Outcome, ...]
    reason: Reason | None
    detail: str
    output: str
    duration_s: float


@dataclass(frozen=True)
class Counts:
    collected: int = 0
    passed: int = 0
    failed: int = 0
    errors: int = 0
    skipped: int = 0


@dataclass(frozen=True)
class Verdict:
    """Green only when ``passed``; otherwise ``reason`` says why and ``detail`` says what."""

    passed: bool
    reason: Reason | None
    detail: str
    counts: Counts
    tests: tuple[TestOutcome, ...]
    output: str
    duration_s: float
    backend: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "passed": self.passed,
            "reason": self.reason.value if self.reason else None,
            "detail": self.detail,
            "counts": self.counts.__dict__,
            "tests": [t.to_dict() for t in self.tests],
            "output": self.output,
            "duration_s": round(self.duration_s, 3),
            "backend": self.backend,
        }

    def to_record(self) -> dict[str, Any]:
        """What tool.json keeps of a verdict: everything but an over-long output."""
        data = self.to_dict()
        data["output"] = data.get("output", "")[-8000:]
        return data

    @property
    def failing(self) -> tuple[TestOutcome, ...]:
        return tuple(t for t in self.tests if t.outcome != "passed")


@dataclass(frozen=True)
class CallResult:
    """``ok`` with a JSON ``value``, or a typed error: ``reason`` (RAISED when the tool raised,
    with ``error_type`` the exception class) and a one-line ``error``."""

    ok: bool
    value: Any = None
    reason: Reason | None = None
    error: str = ""
    error_type: str = ""
    output: str = ""
    duration_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "value": self.value,
            "reason": self.reason.value if self.reason else None,
            "error": self.error,
            "error_type": self.error_type,
            "duration_s": round(self.duration_s, 3),
        }


@dataclass
class RawRun:
    """What a backend observed, before any judgement."""

    output: bytes = b""
    exit_code: int | None = None
    timed_out: bool = False
    oom: bool = False
    output_too_large: bool = False
    duration_s: float = 0.0
    notes: list[str] = field(default_factory=list)


def verdict_event(tool: str, verdict: Verdict, request_id: str = "") -> VerdictReady:
    return VerdictReady(
        tool=tool,
        passed=verdict.passed,
        reason=verdict.reason.value if verdict.reason else None,
        collected=verdict.counts.collected,
        failed=verdict.counts.failed + verdict.counts.errors,
        duration_s=round(verdict.duration_s, 3),
        request_id=request_id,
    )
