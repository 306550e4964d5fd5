"""An expected value written as arithmetic on numbers (``(4.5 + 1.2) / 2``), worked out on the host.

Hand-written tests state answers this way (``== 1 / 3``), and so do models that know their own
sums are unreliable: written as an expression, the sum is Python's, not the writer's. (The local
model, asked for the average of 4.50 and 1.20, wrote 3.90; asked to write the arithmetic instead,
it still wrote results, so the prompt does not ask.) Only numbers and a few pure operations are
read, never a name or a call of anything else, so reading a test runs nothing the model wrote."""

from __future__ import annotations

import ast
import itertools
import operator
from collections.abc import Callable
from typing import Any

Number = int | float

BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.USub: operator.neg, ast.UAdd: operator.pos}
CALLS: dict[str, Callable[..., Any]] = {f.__name__: f for f in (round, abs, min, max, sum, len)}
LARGEST = 10**18  # beyond any answer a test states; keeps 9 ** 9 ** 9 from being worked out
MAX_EXPONENT = 64
MAX_DIGITS = 20  # round(x, n): CPython works out 10 ** abs(n), so n is kept small
MAX_NODES = 200  # a longer expression is no test's answer, and reading it would recurse deeply


class NotArithmetic(ValueError):
    pass


class TooCostly(NotArithmetic):
    """Arithmetic whose cost grows with its arguments past a small bound: honest tests never
    write it, so a folder whose tests do is refused, not merely left partly unread."""


def small(node: ast.AST, limit: int = MAX_NODES) -> bool:
    """Whether ``node`` has at most ``limit`` nodes, found without recursion (ast.walk keeps a
    queue): only such a node is worked out or shown (``ast.unparse`` recurses)."""
    return next(itertools.islice(ast.walk(node), limit, None), None) is None


def shown(node: ast.AST) -> str:
    """A node's source for a message, cut short; a huge node is described, not unparsed."""
    return ast.unparse(node)[:60] if small(node) else "a very long expression"


def arithmetic_value(node: ast.expr) -> Number:
    """The number ``node`` works out to, or NotArithmetic when it is anything but arithmetic.
    Every operation is bounded: no call whose cost grows with an argument (round's digits, an
    exponent, a long expression) is worked out past a small bound."""
    if not small(node):
        raise TooCostly(f"an expression of more than {MAX_NODES} parts is not a test's answer")
    value = _value(node)
    if not _is_number(value):
        raise NotArithmetic(f"{shown(node)} is not a number")
    return value


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _number(value: Any) -> Any:
    if _is_number(value) and abs(value) > LARGEST:
        raise NotArithmetic("a number too large for a test's answer")
    return value


def _value(node: ast.expr) -> Any:
    if isinstance(node, ast.Constant) and _is_number(node.value):
        return node.value
    if isinstance(node, ast.List | ast.Tuple):
        return [_value(e) for e in node.elts]
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        return _number(UNARY[type(node.op)](_value(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        left, right = _value(node.left), _value(node.right)
        if not (_is_number(left) and _is_number(right)):
            raise NotArithmetic("arithmetic on something other than numbers")
        if isinstance(node.op, ast.Pow) and abs(right) > MAX_EXPONENT:
            raise TooCostly("an exponent too large for a test's answer")
        try:
            return _number(BINARY[type(node.op)](left, right))
        except (ZeroDivisionError, OverflowError) as exc:
            raise NotArithmetic(str(exc)) from exc
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in CALLS
        and not node.keywords
        and node.args
    ):
        args = [_value(a) for a in node.args]
        if (
            node.func.id == "round"
            and len(args) > 1
            and not (_is_number(args[1]) and abs(args[1]) <= MAX_DIGITS)
        ):
            raise TooCostly(f"round to more than {MAX_DIGITS} digits is not a test's answer")
        try:
            return _number(CALLS[node.func.id](*args))
        except (TypeError, ValueError) as exc:
            raise NotArithmetic(str(exc)) from exc
    raise NotArithmetic(f"{shown(node)} is not arithmetic on numbers")
