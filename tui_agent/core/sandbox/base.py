"""The sandbox protocol: what every backend does, and the verify/call flow they share.

A backend only knows how to run the trusted runner on a read-only workspace with limits and
return the raw run (:class:`RawRun`); what decides green or red lives in :mod:`judge`.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import SandboxOutput
from tui_agent.core.sandbox.judge import judge_call, judge_verify
from tui_agent.core.sandbox.results import CallResult, Counts, Limits, RawRun, Reason, Verdict
from tui_agent.core.sandbox.static_gate import GateError, gate_tests, gate_tool, inventory
from tui_agent.core.sandbox.streams import LineSink
from tui_agent.core.sandbox.workspace import sweep_workspaces

RUNNER_PATH = Path(__file__).with_name("runner.py")


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
