"""The tests of a new tool, as data: the spec's worked examples first (anchors), the cases the
request's own code decides, then the model's cases, read from its assert lines; then the gates
(enough cases, none a stub that does nothing would pass), judged on the host like any verdict."""

from __future__ import annotations

from collections import Counter

from tui_agent.core.llm import prompts
from tui_agent.core.llm.prompts import from_text_args
from tui_agent.core.synthesis.drafting import read_test_reply
from tui_agent.core.synthesis.inverse import round_trips
from tui_agent.core.synthesis.outcome import SynthesisFailed
from tui_agent.core.synthesis.spec_checks import overspecified, says_when_it_fails
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.cases import (
    Outcome,
    TestCase,
    matches,
    render_tests,
    unique_cases,
    with_inline_files,
)
from tui_agent.core.tool.spec import ToolSpec

MIN_TESTS = 4
# Five assert lines, and one error case where the spec has one: the longest such reply measured
# was 216 tokens, and a reply that goes on enumerating cases (52 asserts of is_prime, 600 tokens,
# 27 s) is cut, its last line unread. A case with a file writes the file's text: ~350 measured.
MAX_TOKENS = 320
MAX_TOKENS_FILES = 600
STUB_OUTCOME = Outcome("raises", raises=("NotImplementedError", "RuntimeError", "Exception", "BaseException"))
TEST_REWRITES = 2


async def make_tests(
    bench: Workbench,
    spec: ToolSpec,
    request_id: str,
    problem: str = "",
    kept: list[TestCase] | None = None,
    decided: list[TestCase] | None = None,
) -> tuple[list[TestCase], Counter[str]]:
    """The spec's worked examples first (anchors), then the cases the request's own code
    ``decided``, then usable cases kept from earlier tries, then this try's, and why the
    others were dropped. A retry samples (temperature) so it is not the same draw again."""
    anchors = [
        TestCase(name=f"example_{i + 1}", args=e.args, expected=e.result, anchor=e.stated, example=True)
        for i, e in enumerate(spec.examples)
    ]
    anchors += decided or []
    reply = await bench.llm.complete(
        prompts.tests_messages(spec, problem, kept or [], errors=says_when_it_fails(spec)),
        purpose="tests",
        request_id=request_id,
        max_tokens=MAX_TOKENS_FILES if any(p.type == "file" for p in spec.parameters) else MAX_TOKENS,
        temperature=0.7 if problem else 0.0,
        stop=prompts.AFTER_CODE,
    )
    written, unread = read_test_reply(reply, prompts.as_text_spec(spec))
    names = {p.name for p in spec.parameters}
    required = {p.name for p in spec.parameters if p.required}
    files = {p.name for p in spec.parameters if p.type == "file"}
    usable = []
    dropped: Counter[str] = Counter()
    if unread:
        dropped["a line that is not a plain check of the function"] += unread
    for c in written:
        c = c.model_copy(update={"args": from_text_args(c.args, files)})
        if not set(c.args) <= names:
            dropped["arguments the function does not take"] += 1
            continue
        if not (c.raises or required <= set(c.args)):
            dropped["a required argument missing"] += 1
            continue
        if overspecified(spec, c):
            dropped["an error the description never mentions"] += 1
            continue
        args = with_inline_files(c.args, files)  # a file's content, or no case: a bare name is no file
        if args is None and not c.raises:
            dropped["a file name where the file's content belongs"] += 1
            continue
        usable.append(c.model_copy(update={"anchor": False, "example": False, "args": args or c.args}))
    before = [*anchors, *(kept or []), *usable]
    cases = unique_cases(before)
    if len(cases) < len(before):
        dropped["the same arguments as another case"] += len(before) - len(cases)
    return cases, dropped


async def gated_tests(bench: Workbench, spec: ToolSpec, request_id: str) -> tuple[list[TestCase], str]:
    """Cases that pass the gates and their rendered test file, or SynthesisFailed."""
    report = bench.report
    problem = ""
    kept: list[TestCase] = []
    helper, decided = await round_trips(bench.sandbox, spec)
    if decided:
        report.say(
            request_id, f"{len(decided)} cases from the request's own {helper}, which the function undoes"
        )
    for attempt in range(1, TEST_REWRITES + 2):
        report.step(request_id, "tests", "started", attempt)
        cases, dropped = await make_tests(bench, spec, request_id, problem, kept, decided)
        if len(cases) < MIN_TESTS:
            kept = cases  # too few, but each one usable: keep them and ask for more
        why = "; ".join(f"{n} with {reason}" for reason, n in dropped.most_common())
        report.step(
            request_id,
            "tests",
            "done",
            attempt,
            f"{len(cases)} cases" + (f" (dropped: {why})" if why else ""),
        )
        report.step(request_id, "gates", "started", attempt)
        try:
            source = render_tests(spec.function_name, cases)
        except ValueError as exc:
            problem = str(exc)
            report.step(request_id, "gates", "failed", attempt, problem)
            continue
        problem = gate_problem(cases)
        if problem and why:
            problem += f"; cases were dropped for {why}"
        if not problem:
            report.step(request_id, "gates", "done", attempt, f"{len(cases)} cases, none passed by a stub")
            report.code(request_id, "test_tool.py", source)
            return cases, source
        report.step(request_id, "gates", "failed", attempt, problem)
    raise SynthesisFailed("gates", f"no usable tests after {TEST_REWRITES + 1} tries: {problem}")


def gate_problem(cases: list[TestCase]) -> str:
    """Enough cases, and none that a stub which does nothing would pass (judged on the host,
    by the same comparison as the real verification: a stub only ever raises)."""
    if len(cases) < MIN_TESTS:
        return f"only {len(cases)} usable cases, at least {MIN_TESTS} are needed"
    passing = [c.test_name for c in cases if matches(c, STUB_OUTCOME)]
    if passing:
        return f"vacuous: {', '.join(passing[:3])} passed against a stub that does nothing"
    return ""
