"""The request's own program on other values: evidence that a composite computes what was asked
beyond the one call it was made from.

A plan is checked against the answer worked out apart (:mod:`grounding`) on the request's values
only; a step it left out can be right there by chance (rounding a number that is already whole).
The program that worked the answer out writes the request's numbers as constants, so the same
program with each of them moved gives what the request would come to on other values, and a
composite that disagrees there does not compute what was asked. When the numbers cannot be told
apart in the program (one number in two roles, a number it does not write), there is no second
point, and the caller decides without it."""

from __future__ import annotations

import ast
import textwrap
from typing import Any


def moved(value: Any) -> Any:
    """Another value of the same kind, near enough to stay in the same domain."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + 3 if value >= 0 else value - 3
    if isinstance(value, float):
        return round(value * 1.1 + 0.7, 3)
    if isinstance(value, list):
        return [moved(v) for v in value]
    return value


def _numbers(value: Any) -> list[int | float]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [value]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def other_call(call: dict[str, Any]) -> dict[str, Any]:
    return {k: moved(v) for k, v in call.items()}


class _Swap(ast.NodeTransformer):
    def __init__(self, swaps: dict[float, int | float]) -> None:
        self.swaps = swaps
        self.seen: set[float] = set()

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, int | float) and not isinstance(value, bool) and float(value) in self.swaps:
            self.seen.add(float(value))
            return ast.copy_location(ast.Constant(self.swaps[float(value)]), node)
        return node


def program_on(program: str, call: dict[str, Any], other: dict[str, Any]) -> str | None:
    """``program`` with each number of ``call`` replaced by its counterpart in ``other``, or None
    when that cannot be done without guessing: a number with two counterparts, a number the
    program does not write, or no number at all."""
    swaps: dict[float, int | float] = {}
    for name, value in call.items():
        old, new = _numbers(value), _numbers(other.get(name))
        if len(old) != len(new):
            return None
        for a, b in zip(old, new, strict=True):
            if swaps.setdefault(float(a), b) != b:
                return None  # one number in two roles
    if not swaps:
        return None
    try:
        tree = ast.parse(textwrap.dedent(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    swap = _Swap(swaps)
    tree = swap.visit(tree)
    if swap.seen != set(swaps):
        return None  # a value the program does not write: moving it changes nothing there
    return ast.unparse(ast.fix_missing_locations(tree))
