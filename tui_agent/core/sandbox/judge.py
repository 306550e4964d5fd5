"""Deciding green or red from what a backend observed (:class:`RawRun`). Lives on the host, once,
for both backends."""

from __future__ import annotations

import json
from typing import Any

from tui_agent.core.sandbox.results import CallResult, Counts, RawRun, Reason, TestOutcome, Verdict
from tui_agent.core.sandbox.static_gate import Inventory
from tui_agent.core.sandbox.streams import MARKER

NO_COUNTS = Counts()


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
        reason: Reason, detail: str, counts: Counts = NO_COUNTS, tests: tuple[TestOutcome, ...] = ()
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
