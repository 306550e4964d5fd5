"""What both backends share: the result types, the workspace, and the fail-closed verdict.

A backend only knows how to run the trusted runner on a read-only workspace with limits and
return the raw run (:class:`RawRun`). Everything that decides green or red lives here, once:
the static gate, the nonce-checked report, the count against the static inventory.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import select
import shutil
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from tui_agent.core.events import EventBus, SandboxOutput, VerdictReady
from tui_agent.core.sandbox.static_gate import GateError, Inventory, gate_tests, gate_tool

MARKER = b"@@SELFENG-REPORT"
RUNNER_PATH = Path(__file__).with_name("runner.py")
WORKSPACE_PREFIX = "ws-"


class Reason(StrEnum):
    """Why a run is not green. RAISED is only for calls: the tool itself raised."""

    TIMEOUT = "TIMEOUT"
    MEMORY = "MEMORY"
    CRASH = "CRASH"
    OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE"
    NO_REPORT = "NO_REPORT"
    COUNT_MISMATCH = "COUNT_MISMATCH"
    TESTS_FAILED = "TESTS_FAILED"
    REJECTED = "REJECTED"
    RAISED = "RAISED"


class SandboxError(Exception):
    """The sandbox itself could not run (no engine, no image): nothing untrusted was run."""


class SandboxUnavailable(SandboxError):
    pass


@dataclass(frozen=True)
class Limits:
    timeout_s: float = 20.0
    memory_mb: int = 256
    cpus: float = 1.0
    pids: int = 64
    tmp_mb: int = 16
    output_bytes: int = 256 * 1024


@dataclass(frozen=True)
class TestOutcome:
    name: str
    outcome: str  # passed | failed | error | skipped | xfailed | xpassed | missing
    message: str = ""


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
            "tests": [t.__dict__ for t in self.tests],
            "output": self.output,
            "duration_s": round(self.duration_s, 3),
            "backend": self.backend,
        }

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


LineSink = Callable[[str], None]


class OutputCollector:
    """Bounded capture that hands out complete lines as they arrive."""

    def __init__(self, limit: int, sink: LineSink | None) -> None:
        self.limit = limit
        self.sink = sink
        self.buffer = bytearray()
        self.total = 0
        self._pending = b""

    def feed(self, data: bytes) -> bool:
        """Add data; False once the limit is passed (the caller then kills the run)."""
        self.total += len(data)
        room = self.limit + 4096 - len(self.buffer)  # a little room for the report line
        if room > 0:
            self.buffer += data[:room]
        if self.sink is not None:
            lines = (self._pending + data).split(b"\n")
            self._pending = lines.pop()[-8192:]
            for line in lines:
                if not line.startswith(MARKER):
                    self.sink(line.decode("utf-8", "replace")[:1000])
        return self.total <= self.limit + 4096


def pump(
    source: Any, read: Callable[[], bytes], deadline: float, feed: Callable[[bytes], bool], raw: RawRun
) -> None:
    """Read ``source`` until end of file, the wall-clock ``deadline`` (sets ``raw.timed_out``) or
    until ``feed`` refuses more (sets ``raw.output_too_large``); the caller then kills the run."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raw.timed_out = True
            return
        ready, _, _ = select.select([source], [], [], min(remaining, 0.5))
        if not ready:
            continue
        data = read()
        if not data:
            return
        if not feed(data):
            raw.output_too_large = True
            return


class Workspace:
    """A fresh host directory holding only the files of one run, copied by content, then made
    read-only. Lives under ``root/ws-<pid>-<random>/`` so a sweep can tell live runs from
    leftovers. Created empty (a pooled container binds it early) and filled just before a run."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-", dir=root))
        self.path.chmod(0o755)

    def fill(self, files: dict[str, str]) -> None:
        for name, content in files.items():
            target = self.path / name
            with open(target, "x", encoding="utf-8") as handle:  # never follows a symlink
                handle.write(content)
            target.chmod(0o444)
        self.path.chmod(0o555)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.chmod(0o755)
            shutil.rmtree(self.path, ignore_errors=True)


def sweep_workspaces(root: Path) -> int:
    """Remove workspaces whose owning process is gone (a crash or a kill)."""
    removed = 0
    if not root.is_dir():
        return 0
    for entry in root.glob(f"{WORKSPACE_PREFIX}*"):
        pid_text = entry.name.removeprefix(WORKSPACE_PREFIX).split("-")[0]
        if pid_text.isdigit() and _alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            entry.chmod(0o755)
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- judging ----------------------------------------------------------------------------


def find_report(raw: RawRun, nonce: str) -> tuple[dict[str, Any] | None, str]:
    """The runner's report, only if it is the single nonce-bearing line, the last thing printed,
    and the process exited 0 right after it. Returns (report, why-not)."""
    tag = MARKER + b" " + nonce.encode() + b" "
    lines = [line for line in raw.output.split(b"\n") if line.strip()]
    ours = [i for i, line in enumerate(lines) if line.startswith(tag)]
    if not ours:
        return None, "no report from the runner"
    if len(ours) > 1:
        return None, "more than one report: the run was tampered with"
    if ours[0] != len(lines) - 1:
        return None, "output after the report: the run was tampered with"
    if raw.exit_code != 0:
        return None, f"runner exited {raw.exit_code} after its report"
    try:
        report = json.loads(lines[ours[0]][len(tag) :])
    except json.JSONDecodeError:
        return None, "the report is not valid JSON"
    return (report, "") if isinstance(report, dict) else (None, "the report is not an object")


def output_text(raw: RawRun, nonce: str, limit: int) -> str:
    text = raw.output.replace(MARKER + b" " + nonce.encode(), MARKER).decode("utf-8", "replace")
    lines = [line for line in text.splitlines() if not line.startswith(MARKER.decode())]
    joined = "\n".join(lines)
    return joined if len(joined) <= limit else joined[:limit] + "\n… (output cut)"


def _run_failure(raw: RawRun) -> tuple[Reason, str] | None:
    """A reason that comes from how the run ended, whatever it printed."""
    if raw.timed_out:
        return Reason.TIMEOUT, "killed at the wall-clock limit"
    if raw.oom:
        return Reason.MEMORY, "killed at the memory limit"
    if raw.output_too_large:
        return Reason.OUTPUT_TOO_LARGE, "killed: printed more than the output limit"
    return None


def _base_name(nodeid: str) -> str:
    name = nodeid.split("::", 1)[1] if "::" in nodeid else nodeid
    return name.split("[", 1)[0]


def judge_verify(raw: RawRun, nonce: str, expected: Inventory, backend: str, output_limit: int) -> Verdict:
    output = output_text(raw, nonce, output_limit)

    def red(
        reason: Reason, detail: str, counts: Counts = Counts(), tests: tuple[TestOutcome, ...] = ()
    ) -> Verdict:
        return Verdict(False, reason, detail, counts, tests, output, raw.duration_s, backend)

    failure = _run_failure(raw)
    if failure:
        return red(*failure)
    report, why = find_report(raw, nonce)
    if report is None:
        if "tampered" in why:
            return red(Reason.REJECTED, why)
        if raw.exit_code not in (0, None):
            memory = b"MemoryError" in raw.output
            return red(Reason.MEMORY if memory else Reason.CRASH, f"{why}; exit code {raw.exit_code}")
        return red(Reason.NO_REPORT, why)

    tampered = report.get("tampered") or []
    if tampered:
        return red(
            Reason.REJECTED, "the code under test tampered with pytest: " + ", ".join(map(str, tampered[:5]))
        )
    collected = [str(n) for n in report.get("collected") or []]
    entries = {str(t.get("nodeid")): t for t in report.get("tests") or [] if isinstance(t, dict)}
    tests = tuple(
        TestOutcome(
            name=nodeid.split("::", 1)[-1],
            outcome=str(entries[nodeid].get("outcome")) if nodeid in entries else "missing",
            message=str(entries.get(nodeid, {}).get("message", ""))[:2000],
        )
        for nodeid in collected
    )
    counts = Counts(
        collected=len(collected),
        passed=sum(t.outcome == "passed" for t in tests),
        failed=sum(t.outcome in ("failed", "xpassed") for t in tests),
        errors=sum(t.outcome == "error" for t in tests),
        skipped=sum(t.outcome in ("skipped", "xfailed") for t in tests),
    )
    errors = report.get("collect_errors") or []
    if errors:
        return red(Reason.TESTS_FAILED, "collection failed: " + str(errors[0])[:500], counts, tests)
    names = {_base_name(n) for n in collected}
    if len(collected) != expected.count or names != set(expected.names):
        return red(
            Reason.COUNT_MISMATCH,
            f"pytest collected {len(collected)} tests, the file defines {expected.count}",
            counts,
            tests,
        )
    if counts.skipped:
        return red(
            Reason.TESTS_FAILED, f"{counts.skipped} tests skipped: skipped tests do not count", counts, tests
        )
    incomplete = [n for n in collected if n not in entries or not entries[n].get("complete")]
    if incomplete or not report.get("finished"):
        return red(Reason.COUNT_MISMATCH, f"{len(incomplete)} collected tests never finished", counts, tests)
    if any("MemoryError" in t.message for t in tests):
        return red(Reason.MEMORY, "a test ran out of memory", counts, tests)
    if counts.passed != counts.collected:
        bad = next(t for t in tests if t.outcome != "passed")
        return red(
            Reason.TESTS_FAILED,
            f"{counts.collected - counts.passed} of {counts.collected} tests failed, first: {bad.name}",
            counts,
            tests,
        )
    if report.get("exit") != 0:
        return red(
            Reason.TESTS_FAILED,
            f"pytest exited {report.get('exit')} although every test passed",
            counts,
            tests,
        )
    return Verdict(True, None, f"{counts.passed} passed", counts, tests, output, raw.duration_s, backend)


def judge_call(raw: RawRun, nonce: str, output_limit: int) -> CallResult:
    output = output_text(raw, nonce, output_limit)
    failure = _run_failure(raw)
    if failure:
        return CallResult(
            False, reason=failure[0], error=failure[1], output=output, duration_s=raw.duration_s
        )
    report, why = find_report(raw, nonce)
    if report is None:
        reason = Reason.REJECTED if "tampered" in why else Reason.NO_REPORT
        if raw.exit_code not in (0, None) and reason is Reason.NO_REPORT:
            reason = Reason.MEMORY if b"MemoryError" in raw.output else Reason.CRASH
        return CallResult(False, reason=reason, error=why, output=output, duration_s=raw.duration_s)
    if report.get("ok") is True:
        return CallResult(True, value=report.get("value"), output=output, duration_s=raw.duration_s)
    error_type = str(report.get("error_type") or "Error")
    reason = {
        "MemoryError": Reason.MEMORY,
        "ResultTooLarge": Reason.OUTPUT_TOO_LARGE,
        "RecursionError": Reason.CRASH,
    }.get(error_type, Reason.RAISED)
    message = str(report.get("message") or "").splitlines()[0:1]
    return CallResult(
        False,
        reason=reason,
        error=f"{error_type}: {message[0] if message else ''}".strip(),
        error_type=error_type,
        output=output,
        duration_s=raw.duration_s,
    )


# --- the protocol ---------------------------------------------------------------------------


class Sandbox(ABC):
    """Run untrusted tool code and its tests, never in our process.

    ``verify`` and ``call`` are coroutines; the blocking work runs in a thread. Output lines are
    published as SandboxOutput events while the run goes on."""

    name = "sandbox"

    def __init__(self, limits: Limits, work_root: Path, bus: EventBus | None = None) -> None:
        self.limits = limits
        self.work_root = work_root
        self.bus = bus
        sweep_workspaces(work_root)

    @abstractmethod
    def _run(self, files: dict[str, str], request: bytes, sink: LineSink | None) -> RawRun:
        """Run the runner on a fresh read-only workspace holding ``files``, with ``request`` on
        stdin, within the limits; leave nothing behind."""

    @abstractmethod
    def run_program(self, program: list[str]) -> RawRun:
        """Run a trusted command (no runner) on an empty workspace with the same isolation and
        limits: the latency floor for benchmarks and diagnostics."""

    def close(self) -> None:  # noqa: B027 - optional hook, most backends hold nothing
        """Release what the backend holds (pooled containers)."""

    def _sink(self, request_id: str) -> LineSink | None:
        bus = self.bus
        if bus is None:
            return None
        return lambda line: bus.publish(SandboxOutput(line=line, request_id=request_id))

    def _execute(self, files: dict[str, str], request: dict[str, Any], request_id: str) -> RawRun:
        started = time.monotonic()
        raw = self._run(files, json.dumps(request).encode(), self._sink(request_id))
        raw.duration_s = raw.duration_s or time.monotonic() - started
        return raw

    def verify_sync(
        self,
        tool_source: str,
        test_source: str,
        function_name: str,
        *,
        request_id: str = "",
        gate: bool = True,
    ) -> Verdict:
        started = time.monotonic()
        try:
            if gate:
                gate_tool(tool_source, function_name)
                expected = gate_tests(test_source)
            else:
                from tui_agent.core.sandbox.static_gate import inventory

                expected = inventory(test_source)
        except GateError as exc:
            return Verdict(
                False, Reason.REJECTED, str(exc), Counts(), (), "", time.monotonic() - started, self.name
            )
        nonce = secrets.token_hex(16)
        raw = self._execute(
            {"tool.py": tool_source, "test_tool.py": test_source},
            {"mode": "verify", "nonce": nonce},
            request_id,
        )
        return judge_verify(raw, nonce, expected, self.name, self.limits.output_bytes)

    def call_sync(
        self,
        tool_source: str,
        function_name: str,
        args: dict[str, Any],
        *,
        request_id: str = "",
        gate: bool = True,
    ) -> CallResult:
        try:
            if gate:
                gate_tool(tool_source, function_name)
            payload = json.dumps(args, allow_nan=False)
        except GateError as exc:
            return CallResult(False, reason=Reason.REJECTED, error=str(exc))
        except (TypeError, ValueError) as exc:
            return CallResult(False, reason=Reason.REJECTED, error=f"arguments are not JSON: {exc}")
        nonce = secrets.token_hex(16)
        raw = self._execute(
            {"tool.py": tool_source},
            {"mode": "call", "nonce": nonce, "function": function_name, "args": json.loads(payload)},
            request_id,
        )
        return judge_call(raw, nonce, self.limits.output_bytes)

    async def verify(
        self, tool_source: str, test_source: str, function_name: str, *, request_id: str = ""
    ) -> Verdict:
        return await asyncio.to_thread(
            self.verify_sync, tool_source, test_source, function_name, request_id=request_id
        )

    async def call(
        self, tool_source: str, function_name: str, args: dict[str, Any], *, request_id: str = ""
    ) -> CallResult:
        return await asyncio.to_thread(
            self.call_sync, tool_source, function_name, args, request_id=request_id
        )


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
