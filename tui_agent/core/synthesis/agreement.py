"""Dual agreement: when do two implementations behave the same on one input?"""

from __future__ import annotations

import math
from typing import Any


def same_behaviour(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Two implementations agree: the same exception, or values equal as the tests compare them
    (floats within the tests' 1e-6 relative tolerance, so 0.621371 and 0.62137119 miles agree)."""
    if a[0] != b[0]:
        return False
    return _close(a[1], b[1])


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(i, j) for i, j in zip(x, y, strict=True))
    return bool(x == y)
