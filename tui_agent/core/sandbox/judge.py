"""Deciding green or red, on the host, once for both backends.

Two steps kept apart: :func:`read_run` turns what a backend observed (:class:`RawRun`) into the
runner's claimed outcomes, trusting nothing in them; :func:`verdict_of` compares those outcomes
with the expected values, which never entered the sandbox. Nothing the code under test can
compute decides its verdict: a forged report can only claim values, and it does not know which
values are expected."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tui_agent.core.sandbox.results import CallResult, CaseRun, Counts, RawRun, Reason, TestOutcome, Verdict
from tui_agent.core.sandbox.streams import MARKER
from tui_agent.core.tool.cases import Outcome, TestCase, expected_text, matches

MISSING = Outcome("missing")
# The runner nests values at most 64 deep; a report is a few levels more (outcomes, value).
MAX_DEPTH = 80
MAX_NODES = 200_000


def find_report(raw: RawRun, nonce: str) -> tuple[dict[str, Any] | None, str, bool]:
    """The runner's report line, if there is exactly one we can read: (report, "", False), or
    (None, why not, whether the report was there but unreadable, which only tampering explains)."""
    tag = MARKER + b" " + nonce.encode() + b" "
    lines = [line for line in raw.output.split(b"\n") if line.startswith(tag)]
    if not lines:
        return None, "no report from the runner", False
    if len(lines) > 1:
        return None, "more than one report: the run was tampered with", True
    try:
        report = json.loads(lines[0][len(tag) :])
    except (ValueError, RecursionError, MemoryError) as exc:
        # invalid JSON or UTF-8, an integer past Python's digit limit, nesting past the parser's
        return None, f"the report is not JSON we can read ({type(exc).__name__})", True
    if not isinstance(report, dict):
        return None, "the report is not an object", True
    too_big = oversized(report)
    return (None, f"the report is {too_big}", True) if too_big else (report, "", False)


def oversized(value: Any, depth_limit: int = MAX_DEPTH, node_limit: int = MAX_NODES) -> str:
    """Why ``value`` is too deep or too large to judge safely ("" if it is not), found without
    recursion: comparing, showing or journaling such a value would recurse past the stack."""
    stack: list[tuple[Any, int]] = [(value, 0)]
    seen = 0
    while stack:
        item, depth = stack.pop()
        seen += 1
        if depth > depth_limit:
            return f"nested more than {depth_limit} deep"
        if seen > node_limit:
            return f"more than {node_limit} values"
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
    return ""


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


def read_run(raw: RawRun, nonce: str, count: int, output_limit: int) -> CaseRun:
    """The outcomes the runner reports for ``count`` calls. A run that ended badly keeps its
    reason (and whatever the report said, if it got that far)."""
    output = output_text(raw, nonce, output_limit)

    def failed(reason: Reason, detail: str) -> CaseRun:
        return CaseRun((MISSING,) * count, reason, detail, output, raw.duration_s)

    failure = _run_failure(raw)
    if failure:
        return failed(*failure)
    report, why, unreadable = find_report(raw, nonce)
    if report is None:
        if unreadable:
            return failed(Reason.REJECTED, why)
        if raw.exit_code not in (0, None):
            memory = b"MemoryError" in raw.output
            return failed(Reason.MEMORY if memory else Reason.CRASH, f"{why}; exit code {raw.exit_code}")
        return failed(Reason.NO_REPORT, why)
    if "import_error" in report:
        return failed(Reason.CRASH, f"tool.py does not import: {str(report['import_error'])[:300]}")
    entries = report.get("outcomes")
    if not isinstance(entries, list) or len(entries) != count:
        return failed(Reason.REJECTED, f"the report does not hold one outcome for each of the {count} calls")
    outcomes = tuple(Outcome.from_report(e) for e in entries)
    return CaseRun(outcomes, None, "", output, raw.duration_s)


def _judge_one(case: TestCase, outcome: Outcome) -> TestOutcome:
    name = case.test_name
    if matches(case, outcome):
        return TestOutcome(name, "passed", observed=outcome)
    kind = "failed" if outcome.kind in ("value", "raises") else "error"
    message = f"expected {expected_text(case)}, got {outcome.shown()}"
    return TestOutcome(name, kind, message[:2000], observed=outcome)


def verdict_of(run: CaseRun, cases: Sequence[TestCase], backend: str) -> Verdict:
    """Each case judged by the host's comparison; green only when every case passed and the run
    itself ended well."""
    tests = tuple(_judge_one(case, outcome) for case, outcome in zip(cases, run.outcomes, strict=True))
    passed = sum(t.outcome == "passed" for t in tests)
    counts = Counts(
        collected=len(tests),
        passed=passed,
        failed=sum(t.outcome == "failed" for t in tests),
        errors=sum(t.outcome == "error" for t in tests),
    )
    if run.reason is not None:
        return Verdict(False, run.reason, run.detail, counts, tests, run.output, run.duration_s, backend)
    if not tests:
        return Verdict(False, Reason.TESTS_FAILED, "no test cases", counts, tests, run.output, 0.0, backend)
    if passed != len(tests):
        first = next(t for t in tests if t.outcome != "passed")
        detail = f"{len(tests) - passed} of {len(tests)} tests failed, first: {first.name}"
        if any(t.observed is not None and t.observed.kind == "timeout" for t in tests):
            detail += " (a case ran past its time)"
        return Verdict(False, Reason.TESTS_FAILED, detail, counts, tests, run.output, run.duration_s, backend)
    return Verdict(True, None, f"{passed} passed", counts, tests, run.output, run.duration_s, backend)


def first_broken(cases: Sequence[TestCase], outcomes: Sequence[Outcome]) -> str:
    """The first case whose outcome does not satisfy it, shown in one line ("" when all do)."""
    for case, outcome in zip(cases, outcomes, strict=True):
        if not matches(case, outcome):
            return f"{case.name}: expected {expected_text(case)[:80]}, got {outcome.shown()[:80]}"
    return ""


def unjudged(cases: Sequence[TestCase], backend: str, detail: str) -> Verdict:
    """A red verdict for outcomes the host could not judge."""
    counts = Counts(collected=len(cases), errors=len(cases))
    return Verdict(False, Reason.REJECTED, detail, counts, (), "", 0.0, backend)


def call_result(run: CaseRun) -> CallResult:
    """One call's outcome as a CallResult: a value, or a typed error."""
    outcome = run.outcomes[0]
    if run.reason is not None:
        return CallResult(
            False, reason=run.reason, error=run.detail, output=run.output, duration_s=run.duration_s
        )
    if outcome.kind == "value":
        return CallResult(True, value=outcome.value, output=run.output, duration_s=run.duration_s)
    if outcome.kind == "raises":
        error_type = outcome.error_type or "Error"
        reason = {"MemoryError": Reason.MEMORY, "RecursionError": Reason.CRASH}.get(error_type, Reason.RAISED)
        first_line = outcome.message.splitlines()[0] if outcome.message else ""
        return CallResult(
            False,
            reason=reason,
            error=f"{error_type}: {first_line}".strip().rstrip(":"),
            error_type=error_type,
            output=run.output,
            duration_s=run.duration_s,
        )
    if outcome.kind == "timeout":
        return CallResult(
            False,
            reason=Reason.TIMEOUT,
            error="ran past its time",
            output=run.output,
            duration_s=run.duration_s,
        )
    too_large = "limit is" in outcome.message
    return CallResult(
        False,
        reason=Reason.OUTPUT_TOO_LARGE if too_large else Reason.CRASH,
        error=f"the result is not usable: {outcome.message}",
        error_type="ResultTooLarge" if too_large else "ResultNotJSON",
        output=run.output,
        duration_s=run.duration_s,
    )
