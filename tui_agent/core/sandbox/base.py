"""The sandbox protocol: what every backend does, and the verify/call flow they share.

A backend only knows how to run the trusted runner on a read-only workspace holding ``tool.py``
alone, with limits, and return the raw run (:class:`RawRun`). Verification and calls are the
same run: a list of argument sets in, one outcome per set out. What decides green or red lives
on the host, in :mod:`judge`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import SandboxOutput
from tui_agent.core.sandbox.inputs import place_inputs
from tui_agent.core.sandbox.judge import call_result, first_broken, read_run, unjudged, verdict_of
from tui_agent.core.sandbox.mixing import draw_checks, shuffled_order, unshuffled
from tui_agent.core.sandbox.results import (
    CallResult,
    CaseRun,
    InputRefused,
    Limits,
    RawRun,
    Reason,
    Verdict,
)
from tui_agent.core.sandbox.static_gate import GateError, gate_tool
from tui_agent.core.sandbox.streams import LineSink
from tui_agent.core.sandbox.workspace import sweep_workspaces
from tui_agent.core.tool.cases import Outcome, TestCase

RUNNER_PATH = Path(__file__).with_name("runner.py")


class Sandbox(ABC):
    """Run untrusted tool code, never in our process.

    ``verify`` and ``call`` are coroutines; the blocking work runs in a thread. Output lines are
    published as SandboxOutput events while the run goes on."""

    name = "sandbox"

    def __init__(self, limits: Limits, work_root: Path, bus: EventBus | None = None) -> None:
        self.limits = limits
        self.work_root = work_root
        self.bus = bus
        sweep_workspaces(work_root)

    @abstractmethod
    def _run(self, files: dict[str, str | Path], request: bytes, sink: LineSink | None) -> RawRun:
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

    def _execute(self, files: dict[str, str | Path], request: dict[str, Any], request_id: str) -> RawRun:
        started = time.monotonic()
        raw = self._run(files, json.dumps(request).encode(), self._sink(request_id))
        raw.duration_s = raw.duration_s or time.monotonic() - started
        return raw

    def case_timeout(self, count: int) -> float:
        """Each case's share of the wall clock, so one case that loops is reported as that case
        timing out while the others still run."""
        return max(1.0, min(self.limits.timeout_s / 2, (self.limits.timeout_s - 2) / max(1, count)))

    def run_cases_sync(
        self,
        tool_source: str,
        function_name: str,
        calls: Sequence[dict[str, Any]],
        *,
        request_id: str = "",
        gate: bool = True,
        case_timeout: float | None = None,
        host_files: Mapping[int, Mapping[str, Path]] | None = None,
    ) -> CaseRun:
        """Every call in one sandbox start: what the function did with each argument set.
        Only the arguments enter the sandbox, and the files they name (:mod:`inputs`: a case's
        inline files; ``host_files``, call index -> parameter -> a host file the user named),
        each alone and read-only. Never raises for anything the code under test did: whatever
        comes back is read into outcomes or a reason."""
        started = time.monotonic()

        def refused(reason: Reason, detail: str) -> CaseRun:
            missing = (Outcome("missing"),) * len(calls)
            return CaseRun(missing, reason, detail, "", time.monotonic() - started)

        try:
            if gate:
                gate_tool(tool_source, function_name)
            placed, inputs = place_inputs(calls, host_files)
            payload = json.loads(json.dumps(placed, allow_nan=False))
        except GateError as exc:
            return refused(Reason.REJECTED, str(exc))
        except (TypeError, ValueError, RecursionError) as exc:
            return refused(Reason.REJECTED, f"arguments are not JSON: {exc}")
        nonce = secrets.token_hex(16)
        timeout = self.case_timeout(len(calls)) if case_timeout is None else case_timeout
        request = {"nonce": nonce, "function": function_name, "cases": payload, "case_timeout": timeout}
        try:
            raw = self._execute({"tool.py": tool_source, **inputs}, request, request_id)
        except InputRefused as exc:
            return refused(Reason.REJECTED, f"a file could not be given to the tool: {exc}")
        try:
            return read_run(raw, nonce, len(calls), self.limits.output_bytes)
        except (ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
            return refused(Reason.REJECTED, f"the run's report could not be read ({type(exc).__name__})")

    def verify_sync(
        self,
        tool_source: str,
        function_name: str,
        cases: Sequence[TestCase],
        *,
        request_id: str = "",
        gate: bool = True,
    ) -> Verdict:
        """Run every case's arguments in one sandbox start, in random order, and judge the
        outcomes here, against expected values the sandbox never sees. Each judged case is
        published as an output line."""
        order = shuffled_order(len(cases))
        run = self.run_cases_sync(
            tool_source, function_name, [cases[i].args for i in order], request_id=request_id, gate=gate
        )
        run = replace(run, outcomes=tuple(unshuffled(run.outcomes, order)))
        try:
            verdict = verdict_of(run, cases, self.name)
        except (ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
            verdict = unjudged(cases, self.name, f"the outcomes could not be judged ({type(exc).__name__})")
        sink = self._sink(request_id)
        if sink is not None:
            for test in verdict.tests:
                sink(
                    f"{'✓' if test.outcome == 'passed' else '✗'} {test.name}"
                    + (f": {test.message}" if test.message else "")
                )
            sink(f"{verdict.counts.passed} of {verdict.counts.collected} cases passed (judged on the host)")
        return verdict

    def call_sync(
        self,
        tool_source: str,
        function_name: str,
        args: dict[str, Any],
        *,
        checks: Sequence[TestCase] = (),
        request_id: str = "",
        gate: bool = True,
        files: Mapping[str, Path] | None = None,
    ) -> CallResult:
        """One call, made the way a verification is made (:mod:`mixing`): some of ``checks``, the
        tool's verified cases, run beside it in random order under the same per-case timeouts,
        and its answer accepted only if each of them still comes out as verified. ``files``:
        parameter -> a host file the user named, given to the tool read-only."""
        drawn = draw_checks(checks)
        calls = [args, *(case.args for case in drawn)]
        order = shuffled_order(len(calls))
        mine = order.index(0)
        run = self.run_cases_sync(
            tool_source,
            function_name,
            [calls[i] for i in order],
            request_id=request_id,
            gate=gate,
            host_files={mine: files} if files else None,
        )
        outcomes = unshuffled(run.outcomes, order)
        try:
            if run.reason is None and (broken := first_broken(drawn, outcomes[1:])):
                return CallResult(
                    False,
                    reason=Reason.UNVERIFIED,
                    error=f"{function_name} did not do in this call what it was verified to do ({broken}), "
                    "so its answer is not used",
                    error_type="UnverifiedCall",
                    output=run.output,
                    duration_s=run.duration_s,
                )
            return call_result(replace(run, outcomes=(outcomes[0],)))
        except (ValueError, TypeError, RecursionError, MemoryError, OverflowError) as exc:
            return CallResult(
                False, reason=Reason.REJECTED, error=f"the result could not be read ({type(exc).__name__})"
            )

    async def verify(
        self, tool_source: str, function_name: str, cases: Sequence[TestCase], *, request_id: str = ""
    ) -> Verdict:
        return await asyncio.to_thread(
            self.verify_sync, tool_source, function_name, cases, request_id=request_id
        )

    async def run_cases(
        self, tool_source: str, function_name: str, calls: Sequence[dict[str, Any]], *, request_id: str = ""
    ) -> CaseRun:
        """Outcomes only, judged by the caller (synthesis compares candidates this way)."""
        return await asyncio.to_thread(
            self.run_cases_sync, tool_source, function_name, calls, request_id=request_id
        )

    async def call(
        self,
        tool_source: str,
        function_name: str,
        args: dict[str, Any],
        *,
        checks: Sequence[TestCase] = (),
        request_id: str = "",
        files: Mapping[str, Path] | None = None,
    ) -> CallResult:
        return await asyncio.to_thread(
            self.call_sync,
            tool_source,
            function_name,
            args,
            checks=checks,
            request_id=request_id,
            files=files,
        )
