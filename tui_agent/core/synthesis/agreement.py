"""Dual agreement: when do two implementations behave the same on one input?"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS, Outcome, TestCase
from tui_agent.core.tool.spec import ToolSpec

if TYPE_CHECKING:
    from tui_agent.core.synthesis.engine import SynthesisEngine
    from tui_agent.core.synthesis.run import Failure


def same_behaviour(a: Outcome, b: Outcome) -> bool:
    """Two implementations agree: the same exception class, or values equal as the tests compare
    them (floats within the tests' 1e-6 relative tolerance, so 0.621371 and 0.62137119 agree)."""
    if a.kind != b.kind or a.kind not in ("value", "raises"):
        return False
    if a.kind == "raises":
        return a.error_type == b.error_type
    return _close(a.value, b.value)


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool) or x is None or y is None:
        return x is y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(i, j) for i, j in zip(x, y, strict=True))
    if isinstance(x, dict) and isinstance(y, dict):
        return set(x) == set(y) and all(_close(x[k], y[k]) for k in x)
    return type(x) is type(y) and x == y


async def agreeing(
    engine: SynthesisEngine, spec: ToolSpec, opinion: str, failures: list[Failure]
) -> set[str]:
    """The failures (by test name) on which ``opinion`` behaves exactly like the code under test."""
    run = await engine.sandbox.run_cases(
        opinion, spec.function_name, [f.case.args for f in failures if f.case]
    )
    if run.reason is not None:
        return set()
    return {
        f.name
        for f, other in zip(failures, run.outcomes, strict=True)
        if f.observed is not None and same_behaviour(f.observed, other)
    }


def corrected(case: TestCase, observed: Outcome) -> TestCase | None:
    """The case, expecting what the agreeing implementations do."""
    if observed.kind == "value":
        return case.model_copy(update={"expected": observed.value, "raises": None})
    if observed.error_type in ALLOWED_EXCEPTIONS:
        return case.model_copy(update={"expected": None, "raises": observed.error_type})
    return None
