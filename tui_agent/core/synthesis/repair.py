"""Tools that get better with use: a person's correction, or a failure on a real input, becomes a
new test case, and the tool is repaired through the normal loop into a new version of itself.

- A correction must fail the current version first; one it already passes changes nothing. It is
  an anchor (a person's word): no agreement between implementations may change it.
- A failure (the tool raised, or the sandbox stopped it) has no known answer: two independent
  implementations, written from the spec alone, propose one, and it is kept only when they agree.
- Every old case is kept, untouchable during the repair (they verified the version in use); the
  new version is saved unapproved until a person approves it."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from tui_agent.core.library.registry import Registry
from tui_agent.core.library.sharing import tool_cases
from tui_agent.core.synthesis.agreement import same_behaviour
from tui_agent.core.synthesis.candidates import failures_in
from tui_agent.core.synthesis.opinions import SecondOpinions, spec_only
from tui_agent.core.synthesis.outcome import SynthesisFailed
from tui_agent.core.synthesis.run import SynthesisRun
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS, TestCase, expected_text, matches, render_tests
from tui_agent.core.tool.record import Tool, ToolRecord
from tui_agent.core.tool.spec import ToolSpec


@dataclass
class RepairOutcome:
    """status: unchanged (the tool already does that) | repaired | failed | disagreed."""

    status: str
    message: str
    record: ToolRecord | None = None
    attempts: int = 0
    seconds: float = 0.0
    case: TestCase | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "message": self.message,
            "version": self.record.version if self.record else None,
            "attempts": self.attempts,
            "seconds": round(self.seconds, 1),
            "case": self.case.model_dump() if self.case else None,
        }


def _case_name(cases: list[TestCase], stem: str) -> str:
    taken = {c.name for c in cases}
    n = 1
    while f"{stem}_{n}" in taken:
        n += 1
    return f"{stem}_{n}"


async def correct(
    bench: Workbench,
    registry: Registry,
    name: str,
    args: dict[str, Any],
    expected: Any = None,
    *,
    raises: str | None = None,
    request_id: str = "",
) -> RepairOutcome:
    """The right answer for ``args`` is ``expected`` (or the exception ``raises``), says a person."""
    started = time.monotonic()
    tool = await asyncio.to_thread(registry.get, name)
    cases = tool_cases(tool)
    case = TestCase(
        name=_case_name(cases, "corrected"), args=args, expected=expected, raises=raises, anchor=True
    )
    spec = ToolSpec.model_validate(tool.record.spec)
    now = await bench.sandbox.run_cases(tool.tool_source, spec.function_name, [args], request_id=request_id)
    if now.reason is None and matches(case, now.outcomes[0]):
        message = f"{name} v{tool.record.version} already gives {expected_text(case)} for these arguments: nothing changed"
        return RepairOutcome("unchanged", message, tool.record, seconds=time.monotonic() - started, case=case)
    await asyncio.to_thread(registry.store.count, name, corrections=1)
    outcome = await _repair(bench, registry, tool, spec, [*cases, case], "corrected by the user", request_id)
    outcome.case, outcome.seconds = case, time.monotonic() - started
    return outcome


async def repair_failure(
    bench: Workbench, registry: Registry, name: str, args: dict[str, Any], *, request_id: str = ""
) -> RepairOutcome:
    """``name`` raised (or was stopped) on ``args``: repair it, if two independent
    implementations agree on what it should have done."""
    started = time.monotonic()
    tool = await asyncio.to_thread(registry.get, name)
    spec = ToolSpec.model_validate(tool.record.spec)
    drawn = SecondOpinions(bench, request_id, spec_only(bench, request_id))
    if not await drawn.draw(spec, 2, (tool.tool_source,)):
        return RepairOutcome(
            "disagreed", f"no two independent implementations of {name} could be drawn: nothing changed"
        )
    runs = [
        await bench.sandbox.run_cases(code, spec.function_name, [args], request_id=request_id)
        for code in drawn.codes[:2]
    ]
    first, second = (r.outcomes[0] for r in runs)
    if any(r.reason is not None for r in runs) or not same_behaviour(first, second):
        message = (
            f"two independent implementations of {name} disagree on these arguments ({first.shown()} against "
            f"{second.shown()}): nothing changed; tell it the right answer with `selfeng-tui tools fix`"
        )
        return RepairOutcome("disagreed", message, seconds=time.monotonic() - started)
    cases = tool_cases(tool)
    if first.kind == "value":
        case = TestCase(name=_case_name(cases, "failed_input"), args=args, expected=first.value)
    elif first.error_type in ALLOWED_EXCEPTIONS:
        case = TestCase(name=_case_name(cases, "failed_input"), args=args, raises=first.error_type)
    else:
        return RepairOutcome(
            "disagreed", f"the agreed behaviour ({first.shown()}) is not a test case we can keep"
        )
    outcome = await _repair(bench, registry, tool, spec, [*cases, case], "repaired after failure", request_id)
    outcome.case, outcome.seconds = case, time.monotonic() - started
    return outcome


async def _repair(
    bench: Workbench,
    registry: Registry,
    tool: Tool,
    spec: ToolSpec,
    cases: list[TestCase],
    why: str,
    request_id: str,
) -> RepairOutcome:
    """The repair loop from the current code, every case an anchor; a new, unapproved version."""
    cases = [c.model_copy(update={"anchor": True}) for c in cases]
    run = SynthesisRun(bench, registry, f"repair {tool.name}", request_id, register=False)
    run.result.spec = spec
    tests = render_tests(spec.function_name, cases)
    bench.report.code(request_id, "test_tool.py", tests)
    verdict = await run.verify_current(tool.tool_source, cases, spec)
    failure = "\n".join(f.line() for f in failures_in(cases, verdict))
    try:
        await run.implement_until_green(spec, cases, tests, previous=tool.tool_source, failure=failure)
    except SynthesisFailed as exc:
        return RepairOutcome(
            "failed", f"{tool.name} could not be repaired: {exc}", attempts=run.result.attempts
        )
    result = run.result
    assert result.verdict is not None
    record = await asyncio.to_thread(
        registry.add,
        tool.name,
        result.tool_source,
        render_tests(spec.function_name, result.cases),
        spec.model_dump(),
        cases=result.cases,
        verdict=result.verdict.to_record(),
        new_version=True,
        request_id=request_id,
        model=bench.llm.model,
        why=why,
        approved=False,
        source=tool.record.source,
    )
    message = f"{tool.name} v{record.version} passes all {len(result.cases)} cases ({why}); it runs once you approve it"
    return RepairOutcome("repaired", message, record, attempts=result.attempts)
