"""One synthesis, start to end: the state of a single request (its spec, cases, the current
code, the second opinion) lives here and dies with it; the engine stays stateless.

Small models write wrong tests as often as wrong code, so a failing test is not simply retried:
a test's expected value is corrected only when an independent implementation, written from the
spec alone, computes the same value as the current one (dual agreement); then the same code is
verified again against the corrected tests. Where the two disagree, the implementation is
repaired, unless an opinion passes every case: then that opinion is the tool. A case is never
deleted, only set aside when no majority of implementations written apart sides with it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tui_agent.core.library.store import ToolExistsError
from tui_agent.core.llm.client import LLMError
from tui_agent.core.sandbox import Verdict
from tui_agent.core.sandbox.results import verdict_event
from tui_agent.core.sandbox.static_gate import GateError, gate_tool
from tui_agent.core.synthesis.candidates import (
    failures_in,
    normalised,
    outcome_counts,
    passed_counts,
    set_aside,
)
from tui_agent.core.synthesis.code import defines, rename_function
from tui_agent.core.synthesis.opinions import SecondOpinions, say
from tui_agent.core.synthesis.spec_checks import with_samples
from tui_agent.core.tool.cases import TestCase, matches, render_tests
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec

if TYPE_CHECKING:
    from tui_agent.core.synthesis.engine import SynthesisEngine


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
    cases: list[TestCase] = field(default_factory=list)
    existing: str | None = None  # the drafted name is a tool we have, and it serves the request
    disputed: list[str] = field(default_factory=list)  # cases set aside, and why


class SynthesisFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


ExistingServes = Callable[[ToolSpec], Awaitable[bool]]  # the drafted spec names a tool we have


class SynthesisRun:
    def __init__(
        self,
        engine: SynthesisEngine,
        request: str,
        request_id: str,
        *,
        register: bool,
        existing_serves: ExistingServes | None = None,
        samples: dict[str, str] | None = None,
    ) -> None:
        self.engine = engine
        self.samples = samples or {}
        self.request = request
        self.rid = request_id
        self.register = register
        self.existing_serves = existing_serves
        self.result = SynthesisResult(ok=False)
        self.opinions = SecondOpinions(engine, request_id, self._implement)
        self.tried: set[str] = set()  # every candidate so far, as its syntax tree
        self.current = ""  # the candidate under test
        self.drafted = ""  # the spec's first name, when another tool had it
        self.best: tuple[tuple[int, int], str] | None = None  # (anchors, cases) passed, and the code

    async def _claim_name(self, spec: ToolSpec) -> ToolSpec | None:
        """A name is never taken over. When the drafted name is a tool we have, that tool is
        tried first (None: it serves the request); otherwise the new tool takes a free name."""
        store = self.engine.registry.store if self.engine.registry is not None else None
        name = spec.function_name
        if store is None or not self.register or not store.exists(name):
            return spec
        if self.existing_serves is not None and await self.existing_serves(spec):
            self.result.existing = name
            return None
        free = store.free_name(name)
        self.drafted = name
        self.engine.step(
            self.rid, "spec", "done", detail=f"{name} is taken by another tool: this one is {free}"
        )
        return spec.model_copy(update={"function_name": free})

    async def run(self) -> SynthesisResult:
        engine, rid, result = self.engine, self.rid, self.result
        try:
            engine.step(rid, "spec", "started")
            drafted = with_samples(await engine.make_spec(self.request, rid, self.samples), self.samples)
            claimed = await self._claim_name(drafted)
            if claimed is None:
                return result
            spec = result.spec = claimed
            engine.step(rid, "spec", "done", detail=spec.signature())
            engine.publish_code(rid, "spec", spec.model_dump_json(indent=2))
            cases, tests = await engine.gated_tests(spec, rid)
            result.test_source = tests
            await self.implement_until_green(spec, cases, tests)
            if self.register and engine.registry is not None:
                engine.step(rid, "register", "started")
                result.record = await register_new(engine, result, spec, rid)
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

    async def _implement(
        self, spec: ToolSpec, tests: str, failure: str = "", previous: str = "", **options: Any
    ) -> str:
        """The model's code, with the function under the spec's name: a model that was shown the
        new name may still write the one it drafted."""
        code = await self.engine.implement(spec, tests, self.rid, failure, previous, **options)
        if self.drafted and not defines(code, spec.function_name) and defines(code, self.drafted):
            code = rename_function(code, self.drafted, spec.function_name)
        return code

    async def _fresh_code(
        self, spec: ToolSpec, tests: str, failure: str, previous: str, step: str, attempt: int
    ) -> str | None:
        """The next candidate, never one already tried: a repair that comes back the same (after
        normalising whitespace) is drawn again, first from the spec and the failing cases without
        the wrong code (shown it, a small model copies it back, bug included), then at a
        temperature; None when nothing new came."""
        engine, rid = self.engine, self.rid
        draws = [(failure, previous, 0.0), (failure, "", 0.0), (failure, previous, 0.7), ("", "", 1.0)]
        if not failure:
            draws = [("", "", 0.0), ("", "", 0.7), ("", "", 1.0)]
        for shown_failure, shown_code, temperature in draws:
            code = await self._implement(spec, tests, shown_failure, shown_code, temperature=temperature)
            if normalised(code) not in self.tried:
                self.tried.add(normalised(code))
                return code
            engine.step(rid, step, "started", attempt, "the same code as before: drawing another")
        return None

    async def verify_current(self, tool: str, cases: list[TestCase], spec: ToolSpec) -> Verdict:
        """Verify code that exists already (a tool to repair): it counts as tried."""
        self.tried.add(normalised(tool))
        self.current = tool
        return await self._verify(tool, cases, spec, 1)

    async def implement_until_green(
        self, spec: ToolSpec, cases: list[TestCase], tests: str, *, previous: str = "", failure: str = ""
    ) -> None:
        """Draw, verify and repair until every case passes (``previous`` and its ``failure``:
        the code to start the repair from), or raise SynthesisFailed. The code is written from the
        spec and its examples; the other cases are held back, so that passing them is evidence
        (code shown the tests it is judged by only agrees with them). ``tests`` is their view."""
        engine, rid, result = self.engine, self.rid, self.result
        for attempt in range(1, engine.settings.repair_attempts + 2):
            result.attempts = attempt
            step = "implementation" if attempt == 1 and not previous else "repair"
            engine.step(rid, step, "started", attempt)
            start = self.best[1] if self.best else previous
            tool = await self._fresh_code(spec, "", failure, start, step, attempt)
            if tool is None:
                engine.step(
                    rid, step, "failed", attempt, "no new code: every draw repeated an earlier attempt"
                )
                continue
            self.current = tool
            try:
                gate_tool(tool, spec.function_name)
            except GateError as exc:
                failure = str(exc)
                engine.step(rid, step, "failed", attempt, failure)
                continue
            engine.step(rid, step, "done", attempt)
            verdict = await self._verify(tool, cases, spec, attempt)
            if verdict.passed:
                result.ok, result.tool_source, result.cases = True, tool, cases
                return
            self._rank(passed_counts(cases, verdict), tool)
            failures = failures_in(cases, verdict)
            certain = [f for f in failures if f.case is not None and f.case.anchor]
            if certain:
                # the code fails what the request itself states: it is wrong whatever the other
                # cases say. The repair is shown those; one code written apart (framed otherwise,
                # sampled) is tried beside it, since a small model repairing its own code mostly
                # writes it again
                failure = "\n".join(f.line() for f in certain)
                await self.opinions.draw(spec, len(self.opinions.codes) + 1, (tool,))
                adopted = await self._passing_opinion(spec, cases, attempt)
                if adopted is not None:
                    result.ok, result.tool_source, result.cases = True, adopted, cases
                    return
                continue
            judged = await self.opinions.judge(spec, cases, failures, self.current)
            if judged.fixes:
                cases = [judged.fixes.get(c.name, c) for c in cases]
                result.test_fixes += sorted(judged.fixes)
            left = [f for f in failures if f.case is None or f.case.name not in judged.fixes]
            aside = set_aside(cases, left, judged)
            if aside:
                cases = [c for c in cases if c.test_name not in aside]
                result.disputed += [judged.disputed[name] for name in sorted(aside)]
                left = [f for f in left if f.name not in aside]
            if judged.fixes or aside:
                tests = result.test_source = render_tests(spec.function_name, cases)
                engine.publish_code(rid, "test_tool.py", tests)
            if (judged.fixes or aside) and not left:
                # every failure was the tests' fault: the same code against the settled tests
                verdict = await self._verify(tool, cases, spec, attempt)
                if verdict.passed:
                    result.ok, result.tool_source, result.cases = True, tool, cases
                    return
                left = failures_in(cases, verdict)
                self.best = (passed_counts(cases, verdict), tool)
            adopted = await self._passing_opinion(spec, cases, attempt)
            if adopted is not None:
                result.ok, result.tool_source, result.cases = True, adopted, cases
                return
            failure = "\n".join(f.line() for f in left) or verdict.detail
        raise SynthesisFailed(
            "verify", f"no implementation passed its tests after {result.attempts} attempts"
        )

    async def _passing_opinion(self, spec: ToolSpec, cases: list[TestCase], attempt: int) -> str | None:
        """A second opinion that passes every case is as good a candidate as the code under
        repair: written from the spec alone, it never saw the cases it is judged by. Each is
        tried once, quietly; the first that passes is verified in the open and is the tool, and
        one that passes more than any candidate so far is where the next repair starts."""
        for opinion in self.opinions.codes:
            if normalised(opinion) in self.tried:
                continue
            self.tried.add(normalised(opinion))
            quiet = await self.engine.sandbox.run_cases(opinion, spec.function_name, [c.args for c in cases])
            outcomes = quiet.outcomes
            if quiet.reason is not None or len(outcomes) != len(cases):
                continue
            if not all(map(matches, cases, outcomes)):
                self._rank(outcome_counts(cases, outcomes), opinion)
                continue
            say(self.engine, self.rid, "a second opinion passes every case: it is the candidate now")
            self.current = opinion
            self.engine.publish_code(self.rid, "tool.py", opinion)
            if (await self._verify(opinion, cases, spec, attempt)).passed:
                return opinion
        return None

    def _rank(self, score: tuple[int, int], code: str) -> None:
        """The next repair starts from the candidate that passed the most (anchors first)."""
        if self.best is None or score > self.best[0]:
            self.best = (score, code)

    async def _verify(self, tool: str, cases: list[TestCase], spec: ToolSpec, attempt: int) -> Verdict:
        engine, rid = self.engine, self.rid
        engine.step(rid, "verify", "started", attempt)
        verdict = self.result.verdict = await engine.sandbox.verify(
            tool, spec.function_name, cases, request_id=rid
        )
        if engine.bus is not None:
            engine.bus.publish(verdict_event(spec.function_name, verdict, rid))
        if verdict.passed:
            engine.step(rid, "verify", "done", attempt, verdict.detail)
        else:
            engine.step(rid, "verify", "failed", attempt, f"{verdict.reason}: {verdict.detail}")
        return verdict


async def register_new(
    engine: SynthesisEngine, result: SynthesisResult, spec: ToolSpec, rid: str
) -> ToolRecord:
    """A new tool, under its own name; if another process took that name meanwhile, under the
    next free one (the function renamed with it, the cases unchanged)."""
    registry = engine.registry
    assert registry is not None and result.verdict is not None
    for _ in range(5):
        try:
            return await asyncio.to_thread(
                registry.add,
                spec.function_name,
                result.tool_source,
                result.test_source,
                spec.model_dump(),
                cases=result.cases,
                verdict=result.verdict.to_record(),
                model=engine.llm.model,
                request_id=rid,
                approved=engine.settings.approve_new_tools == "auto",
                why="synthesised",
                disputed=result.disputed,
            )
        except ToolExistsError:
            free = registry.store.free_name(spec.function_name)
            result.tool_source = rename_function(result.tool_source, spec.function_name, free)
            spec = result.spec = spec.model_copy(update={"function_name": free})
            result.test_source = render_tests(free, result.cases)
    raise SynthesisFailed("register", f"no free name for {spec.function_name}")
