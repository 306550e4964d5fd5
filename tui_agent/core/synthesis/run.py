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
from typing import Any

from tui_agent.core.library.registry import Registry
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
from tui_agent.core.synthesis.coding import implement
from tui_agent.core.synthesis.computed import Anchor, with_computed_example
from tui_agent.core.synthesis.drafting import make_spec
from tui_agent.core.synthesis.opinions import SecondOpinions
from tui_agent.core.synthesis.outcome import SynthesisFailed, SynthesisResult
from tui_agent.core.synthesis.recall import answers_from_table
from tui_agent.core.synthesis.spec_checks import with_samples
from tui_agent.core.synthesis.testing import gated_tests
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.cases import TestCase, matches, render_tests
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec

__all__ = ["SynthesisFailed", "SynthesisResult", "SynthesisRun", "register_new"]


class SynthesisRun:
    def __init__(
        self,
        bench: Workbench,
        registry: Registry | None,
        request: str,
        request_id: str,
        *,
        register: bool,
        samples: dict[str, str] | None = None,
        spec: ToolSpec | None = None,
        anchor: Anchor | None = None,
    ) -> None:
        """``spec``: a draft to go on from (the flow found that the tool its name names does not
        serve the request), so the new tool takes a free name; without it the spec is drafted and
        the run stops at a name the library has, for the flow to try that tool first.
        ``anchor``: what the request works out to, computed apart (:mod:`computed`)."""
        self.bench = bench
        self.report = bench.report
        self.registry = registry
        self.samples = samples or {}
        self.request = request
        self.rid = request_id
        self.register = register
        self.spec = spec
        self.anchor = anchor or Anchor()
        self.result = SynthesisResult(ok=False)
        self.opinions = SecondOpinions(bench, request_id, self._implement)
        self.tried: set[str] = set()  # every candidate so far, as its syntax tree
        self.current = ""  # the candidate under test
        self.drafted = ""  # the spec's first name, when another tool had it
        self.best: tuple[tuple[int, int], str] | None = None  # (anchors, cases) passed, and the code

    def _claim_name(self, spec: ToolSpec, drafted_here: bool) -> ToolSpec | None:
        """A name is never taken over. When a spec drafted here names a tool we have, the run
        stops (None) so the flow can try that tool first; a spec handed in goes on under a free
        name."""
        store = self.registry.store if self.registry is not None else None
        name = spec.function_name
        if store is None or not self.register or not store.exists(name):
            return spec
        if drafted_here:
            self.result.existing, self.result.spec = name, spec
            return None
        free = store.free_name(name)
        self.drafted = name
        self.report.step(
            self.rid, "spec", "done", detail=f"{name} is taken by another tool: this one is {free}"
        )
        return spec.model_copy(update={"function_name": free})

    async def run(self) -> SynthesisResult:
        bench, report, rid, result = self.bench, self.report, self.rid, self.result
        try:
            if self.spec is None:
                report.step(rid, "spec", "started")
                drafted = with_samples(
                    await make_spec(bench, self.request, rid, self.samples, self.anchor), self.samples
                )
            else:
                drafted = self.spec
            claimed = self._claim_name(drafted, drafted_here=self.spec is None)
            if claimed is None:
                return result
            spec, changed = with_computed_example(claimed, self.request, self.anchor.value)
            if changed:
                report.say(rid, changed)
            result.spec = spec
            report.step(rid, "spec", "done", detail=spec.signature())
            report.code(rid, "spec", spec.model_dump_json(indent=2))
            cases, tests = await gated_tests(bench, spec, rid)
            result.test_source = tests
            await self.implement_until_green(spec, cases, tests)
            if self.register and self.registry is not None:
                report.step(rid, "register", "started")
                result.record = await register_new(bench, self.registry, result, spec, rid, self.request)
                report.step(rid, "register", "done", detail=f"{spec.function_name} v{result.record.version}")
            return result
        except SynthesisFailed as exc:
            report.step(rid, exc.step, "failed", result.attempts or 1, str(exc))
            result.reason = str(exc)
            return result
        except LLMError as exc:
            result.reason = f"the model could not help: {exc}"
            step = "spec" if result.spec is None else "implementation"
            report.step(rid, step, "failed", result.attempts or 1, result.reason)
            return result

    async def _implement(
        self, spec: ToolSpec, tests: str, failure: str = "", previous: str = "", **options: Any
    ) -> str:
        """The model's code, with the function under the spec's name: a model that was shown the
        new name may still write the one it drafted."""
        code = await implement(self.bench, spec, tests, self.rid, failure, previous, **options)
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
        rid = self.rid
        draws = [(failure, previous, 0.0), (failure, "", 0.0), (failure, previous, 0.7), ("", "", 1.0)]
        if not failure:
            draws = [("", "", 0.0), ("", "", 0.7), ("", "", 1.0)]
        for shown_failure, shown_code, temperature in draws:
            code = await self._implement(spec, tests, shown_failure, shown_code, temperature=temperature)
            if normalised(code) not in self.tried:
                self.tried.add(normalised(code))
                return code
            self.report.step(rid, step, "started", attempt, "the same code as before: drawing another")
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
        report, rid, result = self.report, self.rid, self.result
        for attempt in range(1, self.bench.settings.repair_attempts + 2):
            result.attempts = attempt
            step = "implementation" if attempt == 1 and not previous else "repair"
            report.step(rid, step, "started", attempt)
            start = self.best[1] if self.best else previous
            tool = await self._fresh_code(spec, "", failure, start, step, attempt)
            if tool is None:
                report.step(
                    rid, step, "failed", attempt, "no new code: every draw repeated an earlier attempt"
                )
                continue
            self.current = tool
            try:
                gate_tool(tool, spec.function_name)
            except GateError as exc:
                failure = str(exc)
                report.step(rid, step, "failed", attempt, failure)
                continue
            recalled = answers_from_table(tool, cases)
            if recalled:
                failure = recalled
                report.step(rid, step, "failed", attempt, recalled)
                continue
            report.step(rid, step, "done", attempt)
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
                report.code(rid, "test_tool.py", tests)
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
            if normalised(opinion) in self.tried or answers_from_table(opinion, cases):
                continue
            self.tried.add(normalised(opinion))
            quiet = await self.bench.sandbox.run_cases(opinion, spec.function_name, [c.args for c in cases])
            outcomes = quiet.outcomes
            if quiet.reason is not None or len(outcomes) != len(cases):
                continue
            if not all(map(matches, cases, outcomes)):
                self._rank(outcome_counts(cases, outcomes), opinion)
                continue
            self.report.say(self.rid, "a second opinion passes every case: it is the candidate now")
            self.current = opinion
            self.report.code(self.rid, "tool.py", opinion)
            if (await self._verify(opinion, cases, spec, attempt)).passed:
                return opinion
        return None

    def _rank(self, score: tuple[int, int], code: str) -> None:
        """The next repair starts from the candidate that passed the most (anchors first)."""
        if self.best is None or score > self.best[0]:
            self.best = (score, code)

    async def _verify(self, tool: str, cases: list[TestCase], spec: ToolSpec, attempt: int) -> Verdict:
        report, rid = self.report, self.rid
        report.step(rid, "verify", "started", attempt)
        verdict = self.result.verdict = await self.bench.sandbox.verify(
            tool, spec.function_name, cases, request_id=rid
        )
        report.publish(verdict_event(spec.function_name, verdict, rid))
        if verdict.passed:
            report.step(rid, "verify", "done", attempt, verdict.detail)
        else:
            report.step(rid, "verify", "failed", attempt, f"{verdict.reason}: {verdict.detail}")
        return verdict


async def register_new(
    bench: Workbench, registry: Registry, result: SynthesisResult, spec: ToolSpec, rid: str, request: str
) -> ToolRecord:
    """A new tool, under its own name; if another process took that name meanwhile, under the
    next free one (the function renamed with it, the cases unchanged)."""
    assert result.verdict is not None
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
                model=bench.llm.model,
                request_id=rid,
                approved=bench.settings.approve_new_tools == "auto",
                why=f"synthesised for {request[:200]!r}",
                disputed=result.disputed,
            )
        except ToolExistsError:
            free = registry.store.free_name(spec.function_name)
            result.tool_source = rename_function(result.tool_source, spec.function_name, free)
            spec = result.spec = spec.model_copy(update={"function_name": free})
            result.test_source = render_tests(free, result.cases)
    raise SynthesisFailed("register", f"no free name for {spec.function_name}")
