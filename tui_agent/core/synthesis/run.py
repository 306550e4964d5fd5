"""One synthesis, start to end: the state of a single request (its spec, cases, the current
code, the second opinion) lives here and dies with it; the engine stays stateless.

Small models write wrong tests as often as wrong code, so a failing test is not simply retried:
a test's expected value is corrected only when an independent implementation, written from the
spec alone, computes the same value as the current one (dual agreement); then the same code is
verified again against the corrected tests. Where the two disagree, the implementation is
repaired. Tests are never deleted and their count never drops."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui_agent.core.llm.client import LLMError
from tui_agent.core.sandbox import Verdict
from tui_agent.core.sandbox.results import verdict_event
from tui_agent.core.sandbox.static_gate import GateError, gate_tool
from tui_agent.core.synthesis.agreement import same_behaviour
from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS, TestCase, render_tests
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec

if TYPE_CHECKING:
    from tui_agent.core.synthesis.engine import SynthesisEngine

Behaviour = tuple[str, Any]  # ("value", v) | ("raises", "ValueError") | ("crash", reason)


@dataclass
class SynthesisResult:
    ok: bool
    reason: str = ""
    spec: ToolSpec | None = None
    tool_source: str = ""
    test_source: str = ""
    verdict: Verdict | None = None
    record: ToolRecord | None = None
    attempts: int = 0
    test_fixes: list[str] = field(default_factory=list)


class SynthesisFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


@dataclass(frozen=True)
class Failure:
    """One failing test: its case (None when the test is not one of ours), what it expected and
    what the code did."""

    name: str
    case: TestCase | None
    expected: Any
    actual: Any
    behaviour: Behaviour | None = None

    def line(self) -> str:
        return f"- {self.name}: expected {self.expected!r}, got {self.actual!r}"


class SynthesisRun:
    def __init__(self, engine: SynthesisEngine, request: str, request_id: str, *, register: bool) -> None:
        self.engine = engine
        self.request = request
        self.rid = request_id
        self.register = register
        self.result = SynthesisResult(ok=False)
        self.independent: str | None = None  # a spec-only second implementation, drawn on need

    async def run(self) -> SynthesisResult:
        engine, rid, result = self.engine, self.rid, self.result
        try:
            engine.step(rid, "spec", "started")
            spec = result.spec = await engine.make_spec(self.request, rid)
            engine.step(rid, "spec", "done", detail=spec.signature())
            engine.publish_code(rid, "spec", spec.model_dump_json(indent=2))
            cases, tests = await engine.gated_tests(spec, rid)
            result.test_source = tests
            await self._implement_until_green(spec, cases, tests)
            if self.register and engine.registry is not None:
                engine.step(rid, "register", "started")
                result.record = await self._register(spec)
                engine.step(rid, "register", "done", detail=f"{spec.function_name} v{result.record.version}")
            return result
        except SynthesisFailed as exc:
            engine.step(rid, exc.step, "failed", result.attempts or 1, str(exc))
            result.reason = str(exc)
            return result
        except LLMError as exc:
            result.reason = f"the model could not help: {exc}"
            step = "spec" if result.spec is None else "implementation"
            engine.step(rid, step, "failed", result.attempts or 1, result.reason)
            return result

    async def _implement_until_green(self, spec: ToolSpec, cases: list[TestCase], tests: str) -> None:
        engine, rid, result = self.engine, self.rid, self.result
        tool = ""
        failure = ""
        for attempt in range(1, engine.settings.repair_attempts + 2):
            result.attempts = attempt
            step = "implementation" if attempt == 1 else "repair"
            engine.step(rid, step, "started", attempt)
            tool = await engine.implement(spec, tests, rid, failure, tool)
            try:
                gate_tool(tool, spec.function_name)
            except GateError as exc:
                failure = str(exc)
                engine.step(rid, step, "failed", attempt, failure)
                continue
            engine.step(rid, step, "done", attempt)
            verdict = await self._verify(tool, tests, spec, attempt)
            if verdict.passed:
                result.ok, result.tool_source = True, tool
                return
            failures = await self._failures(spec, cases, tool, verdict)
            fixes = await self._agreed_test_fixes(spec, failures)
            if fixes:
                cases = [fixes.get(c.name, c) for c in cases]
                tests = result.test_source = render_tests(spec.function_name, cases)
                result.test_fixes += sorted(fixes)
                engine.publish_code(rid, "test_tool.py", tests)
                if len(fixes) == len(failures):
                    # every failure was the tests' fault: the same code against the fixed tests
                    verdict = await self._verify(tool, tests, spec, attempt)
                    if verdict.passed:
                        result.ok, result.tool_source = True, tool
                        return
                    failures = await self._failures(spec, cases, tool, verdict)
                else:
                    failures = [f for f in failures if f.case is None or f.case.name not in fixes]
            failure = "\n".join(f.line() for f in failures) or verdict.detail
        raise SynthesisFailed(
            "verify", f"no implementation passed its tests after {result.attempts} attempts"
        )

    async def _verify(self, tool: str, tests: str, spec: ToolSpec, attempt: int) -> Verdict:
        engine, rid = self.engine, self.rid
        engine.step(rid, "verify", "started", attempt)
        verdict = self.result.verdict = await engine.sandbox.verify(
            tool, tests, spec.function_name, request_id=rid
        )
        if engine.bus is not None:
            engine.bus.publish(verdict_event(spec.function_name, verdict, rid))
        if verdict.passed:
            engine.step(rid, "verify", "done", attempt, verdict.detail)
        else:
            engine.step(rid, "verify", "failed", attempt, f"{verdict.reason}: {verdict.detail}")
        return verdict

    async def _behaviour(self, source: str, spec: ToolSpec, args: dict[str, Any]) -> Behaviour:
        """What an implementation does on these arguments: ("value", v) or ("raises", ExceptionName)."""
        result = await self.engine.sandbox.call(source, spec.function_name, args)
        if result.ok:
            return "value", result.value
        return ("raises", result.error_type) if result.error_type else ("crash", str(result.reason))

    async def _failures(
        self, spec: ToolSpec, cases: list[TestCase], tool: str, verdict: Verdict
    ) -> list[Failure]:
        by_test = {f"test_{c.name}": c for c in cases}
        failures = []
        for outcome in verdict.failing:
            case = by_test.get(outcome.name)
            if case is None:
                failures.append(Failure(outcome.name, None, "?", outcome.message[:200]))
                continue
            behaviour = await self._behaviour(tool, spec, case.args)
            shown = behaviour[1] if behaviour[0] == "value" else f"raised {behaviour[1]}"
            expected = f"raises {case.raises}" if case.raises else case.expected
            failures.append(Failure(outcome.name, case, expected, shown, behaviour))
        return failures

    async def _agreed_test_fixes(self, spec: ToolSpec, failures: list[Failure]) -> dict[str, TestCase]:
        """Test name -> corrected case, only where an independent implementation, written from
        the spec alone (it never saw the tests), behaves exactly like the current one: two
        implementations against one test (CodeT's dual agreement). Where they disagree, the
        test stands and the implementation is repaired."""
        suspects = [f for f in failures if f.case is not None and f.behaviour and f.behaviour[0] != "crash"]
        if not suspects:
            return {}
        if self.independent is None:
            self.independent = await self.engine.implement(spec, "", self.rid, temperature=0.6, show=False)
        independent = self.independent
        try:
            gate_tool(independent, spec.function_name)
        except GateError:
            self.independent = None
            return {}
        fixes: dict[str, TestCase] = {}
        for failure in suspects:
            assert failure.case is not None and failure.behaviour is not None
            kind, value = failure.behaviour
            if not same_behaviour(await self._behaviour(independent, spec, failure.case.args), (kind, value)):
                continue
            case = failure.case
            if kind == "value":
                fixes[case.name] = case.model_copy(update={"expected": value, "raises": None})
            elif value in ALLOWED_EXCEPTIONS:
                fixes[case.name] = case.model_copy(update={"expected": None, "raises": value})
        if not fixes:
            # this second opinion agreed with no failing test: the next failure draws a new one
            # (a sampled implementation can be wrong too; one drawn once decides nothing more)
            self.independent = None
        return fixes

    async def _register(self, spec: ToolSpec) -> ToolRecord:
        engine, result = self.engine, self.result
        assert engine.registry is not None and result.verdict is not None
        return await asyncio.to_thread(
            engine.registry.add,
            spec.function_name,
            result.tool_source,
            result.test_source,
            spec.model_dump(),
            verdict=result.verdict.to_record(),
            model=engine.llm.model,
            request_id=self.rid,
            approved=engine.settings.approve_new_tools == "auto",
        )
