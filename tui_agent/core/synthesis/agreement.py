"""Dual agreement: when do two implementations behave the same on one input?"""

from __future__ import annotations

from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.candidates import Failure, Judged
from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS, Outcome, TestCase, agrees, expected_text, matches
from tui_agent.core.tool.spec import ToolSpec


def same_behaviour(a: Outcome, b: Outcome) -> bool:
    """Two implementations agree: the same exception class, or values equal as the tests compare
    them (floats within the tests' relative tolerance, cases.REL_TOL, so 0.621371 and 0.62137119 agree)."""
    if a.kind != b.kind or a.kind not in ("value", "raises"):
        return False
    if a.kind == "raises":
        return a.error_type == b.error_type
    return agrees(a.value, b.value)


def corrected(case: TestCase, observed: Outcome) -> TestCase | None:
    """The case, expecting what the agreeing implementations do. A case that expects a value is
    never corrected into an exception: implementations of one model that all raise on an input
    (``int('-')`` for the digits of -12345) share a bug more often than they find a rule."""
    if observed.kind == "value":
        return case.model_copy(update={"expected": observed.value, "raises": None})
    if case.raises and observed.error_type in ALLOWED_EXCEPTIONS:
        return case.model_copy(update={"expected": None, "raises": observed.error_type})
    return None


async def judge_failures(
    sandbox: Sandbox,
    spec: ToolSpec,
    opinions: list[str],
    failures: list[Failure],
    anchors: list[TestCase],
) -> Judged:
    """Each failing case the model invented, held against implementations written apart from
    the code under test (from the spec alone). An opinion that fails one of ``anchors`` (the
    request's own cases, and the spec's examples the code passes) is wrong and has no vote. The
    test and the code each have their own word; the opinions decide between them: more doing
    what the code does corrects the test (two at least for a worked example of the spec), more
    doing what the test says confirms it, and a tie, or none doing either, leaves the case
    disputed once two opinions have voted. An anchor is never touched."""
    judged = Judged()
    votes: dict[str, tuple[int, int]] = {f.name: (0, 0) for f in failures}  # (like the code, like the test)
    calls = [a.args for a in anchors] + [f.case.args for f in failures if f.case]
    for opinion in opinions:
        run = await sandbox.run_cases(opinion, spec.function_name, calls)
        if run.reason is not None:
            continue
        if not all(matches(a, o) for a, o in zip(anchors, run.outcomes, strict=False)):
            continue
        judged.counted += 1
        theirs = run.outcomes[len(anchors) :]
        for f, other in zip([f for f in failures if f.case], theirs, strict=True):
            like_code, like_test = votes[f.name]
            votes[f.name] = (
                like_code + (f.observed is not None and same_behaviour(f.observed, other)),
                like_test + (f.case is not None and matches(f.case, other)),
            )
    for f in failures:
        if (
            f.case is None
            or f.case.anchor
            or f.observed is None
            or f.observed.kind not in ("value", "raises")
        ):
            continue
        like_code, like_test = votes[f.name]
        needed = 2 if f.case.example else 1
        fixed = corrected(f.case, f.observed)
        if like_test > like_code:
            judged.confirmed.add(f.name)
        elif like_code > like_test and like_code >= needed and fixed is not None:
            judged.fixes[f.case.name] = fixed
        elif f.case.example or judged.counted < 2 or (like_code > like_test and fixed is not None):
            judged.undecided.add(f.name)
        else:
            split = f"{like_test} sided with the test and {like_code} with the code" if like_test else ""
            judged.disputed[f.name] = (
                f"{f.name}: the tests said {expected_text(f.case)}, this code gives {f.observed.shown()}, "
                f"and of {judged.counted} implementations written apart "
                + (split or ("all raised too" if like_code else "none did either"))
            )
    return judged
