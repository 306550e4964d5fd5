"""Dual agreement: when do two implementations behave the same on one input?"""

from __future__ import annotations

import math
from typing import Any

from tui_agent.core.tool.cases import Outcome


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
