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


def moved(value: Any, texts: tuple[str, ...] = ()) -> Any:
    """Another value of the same kind, near enough to stay in the same domain. A text moves only
    when the request quotes it (``texts``), to itself twice: the same letters, cases and spaces,
    so two computations that agreed on it for the same reason agree again; a unit or a date the
    request names is part of what is asked and stays."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value + 3 if value >= 0 else value - 3
    if isinstance(value, float):
        return round(value * 1.1 + 0.7, 3)
    if isinstance(value, str):
        return value + value if value and value in texts else value
    if isinstance(value, list):
        return [moved(v, texts) for v in value]
    return value


def _key(value: Any) -> Any:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return value if isinstance(value, str) else None


def _movable(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [n for v in value for n in _movable(v)]
    return [value] if _key(value) is not None else []


def other_call(call: dict[str, Any], texts: tuple[str, ...] = ()) -> dict[str, Any]:
    return {k: moved(v, texts) for k, v in call.items()}


class _Swap(ast.NodeTransformer):
    def __init__(self, swaps: dict[Any, Any]) -> None:
        self.swaps = swaps
        self.seen: dict[Any, int] = {}

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        key = _key(node.value)
        if key is not None and key in self.swaps:
            self.seen[key] = self.seen.get(key, 0) + 1
            return ast.copy_location(ast.Constant(self.swaps[key]), node)
        return node


def program_on(
    program: str, call: dict[str, Any], other: dict[str, Any], *, strict: bool = False
) -> str | None:
    """``program`` with each value of ``call`` that moved replaced by its counterpart in
    ``other``, or None when that cannot be done without guessing: a value with two
    counterparts, one the program does not write, or nothing moved at all. ``strict``: also
    None when the program writes a value more often than the call has it (``60 * 60`` for 60
    minutes, though ``ceil(36 / 5) * 5`` is one 5 twice)."""
    swaps: dict[Any, Any] = {}
    counts: dict[Any, int] = {}
    for name, value in call.items():
        old, new = _movable(value), _movable(other.get(name))
        if len(old) != len(new):
            return None
        for a, b in zip(old, new, strict=True):
            if a == b:
                continue
            if swaps.setdefault(_key(a), b) != b:
                return None  # one value in two roles
            counts[_key(a)] = counts.get(_key(a), 0) + 1
    if not swaps:
        return None
    try:
        tree = ast.parse(textwrap.dedent(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    swap = _Swap(swaps)
    tree = swap.visit(tree)
    if set(swap.seen) != set(swaps) or (strict and any(swap.seen[k] > counts[k] for k in swaps)):
        return None  # a value the program does not write, or writes in another role too
    return ast.unparse(ast.fix_missing_locations(tree))
