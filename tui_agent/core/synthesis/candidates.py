"""A candidate's standing: what makes it new (its syntax tree), what it failed and how far it
got (anchors first), and which disputed cases may be set aside."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from tui_agent.core.sandbox import Verdict
from tui_agent.core.tool.cases import Outcome, TestCase, expected_text, matches


@dataclass(frozen=True)
class Failure:
    """One failing test: its case (None when the test is not one of ours), what it expected and
    what the code did."""

    name: str
    case: TestCase | None
    expected: str
    actual: str
    observed: Outcome | None = None

    def line(self) -> str:
        call = ""
        if self.case is not None:
            call = f" ({', '.join(f'{k}={v!r}' for k, v in self.case.args.items())})"
        source = (
            " [from the request: this one is certain]" if self.case is not None and self.case.anchor else ""
        )
        return f"- {self.name}{call}: expected {self.expected}, got {self.actual}{source}"


@dataclass
class Judged:
    """What second opinions say about failing cases. ``fixes``: cases corrected to what the code
    and the opinions do; ``confirmed``: failures an opinion agrees with the test on (the code is
    wrong); ``disputed``: invented cases no opinion sides with, neither the test nor the code;
    ``undecided``: cases that want another opinion before anything is decided."""

    fixes: dict[str, TestCase] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)
    disputed: dict[str, str] = field(default_factory=dict)
    undecided: set[str] = field(default_factory=set)
    counted: int = 0  # opinions that passed every anchor, so had a vote


def normalised(code: str) -> str:
    """What makes two candidates the same code: their syntax tree, so a repair that only adds a
    comment or a blank line (``# Test cases`` after the same wrong body) is no new candidate."""
    try:
        return ast.dump(ast.parse(code))
    except (SyntaxError, ValueError):
        return " ".join(code.split())


def passed_counts(cases: list[TestCase], verdict: Verdict) -> tuple[int, int]:
    """How good a failing candidate is: anchors passed first, then all cases passed."""
    passed = {t.name for t in verdict.tests if t.outcome == "passed"}
    anchors = sum(1 for c in cases if (c.anchor or c.example) and c.test_name in passed)
    return anchors, len(passed)


def outcome_counts(cases: list[TestCase], outcomes: list[Outcome]) -> tuple[int, int]:
    """:func:`passed_counts` for a quiet run's outcomes, compared on the host the same way."""
    passed = [c for c, o in zip(cases, outcomes, strict=False) if matches(c, o)]
    return sum(1 for c in passed if c.anchor or c.example), len(passed)


def failures_in(cases: list[TestCase], verdict: Verdict) -> list[Failure]:
    """Each failing case with what the code did on it, as the verification observed it."""
    by_test = {c.test_name: c for c in cases}
    failures = []
    for outcome in verdict.failing:
        case = by_test.get(outcome.name)
        observed = outcome.observed
        if case is None or observed is None:
            failures.append(Failure(outcome.name, case, "?", outcome.message[:200]))
            continue
        actual = observed.shown() + (f" at `{observed.line}`" if observed.line else "")
        failures.append(Failure(outcome.name, case, expected_text(case), actual, observed))
    return failures


def set_aside(cases: list[TestCase], left: list[Failure], judged: Judged) -> set[str]:
    """The disputed cases to set aside, when every failure left is one (a case no majority of
    implementations written apart sides with is a guess of the test writer's, not evidence), and
    only while what stays outweighs them: a case the request states counts twice, any other once."""
    if not left or any(f.name not in judged.disputed for f in left):
        return set()
    aside = {f.name for f in left}
    kept = [c for c in cases if c.test_name not in aside]
    if len(aside) > sum(2 if c.anchor else 1 for c in kept):
        return set()
    return aside
