"""Tools compute; they do not recall. Code that answers its tests from a table of their own
inputs and outputs (a dict from four city names to weather words, an if-chain returning each
tested value) passes every case and computes nothing: it is rejected, with the reason "answers
its tests from a table".

Read off the syntax tree, never run: the literal mappings whose values the code returns as they
are (``return table[city]``, ``table.get(city)``, ``if x == <literal>: return <literal>``
chains), held against the cases. A case is recalled when
one of its argument values maps, in one such table, to its expected value. The code is rejected
when at least two cases, and at least half of the cases that expect a value, are recalled, and
the table is mostly made of tested inputs. A table that covers a domain wider than the tests
(month lengths, unit factors, letter sets) belongs to the computation and stays."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from typing import Any

from tui_agent.core.tool.cases import TestCase, agrees

Table = list[tuple[Any, Any]]  # (key, value) literal pairs


def _literal(node: ast.AST) -> tuple[bool, Any]:
    try:
        value = ast.literal_eval(node)  # type: ignore[arg-type]
    except (ValueError, TypeError, SyntaxError, RecursionError, MemoryError):
        return False, None
    return True, value


def _pairs(node: ast.Dict) -> Table:
    pairs = []
    for key, value in zip(node.keys, node.values, strict=True):
        if key is None:
            return []
        ok_key, k = _literal(key)
        ok_value, v = _literal(value)
        if ok_key and ok_value:
            pairs.append((k, v))
    return pairs


def _looked_up(node: ast.expr | None, named: dict[str, ast.Dict]) -> ast.Dict | None:
    """The dict literal ``node`` looks a key up in and returns as is (``table[x]``,
    ``table.get(x, ...)``), if it does: a table whose values are worked into a computation
    (``v * factors[unit]``) is part of the computation."""
    if isinstance(node, ast.Subscript):
        target = node.value
    elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
        target = node.func.value
    else:
        return None
    if isinstance(target, ast.Dict):
        return target
    return named.get(target.id) if isinstance(target, ast.Name) else None


def _dict_tables(tree: ast.AST) -> Iterator[Table]:
    named = {
        target.id: node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Dict)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    for node in ast.walk(tree):
        table = _looked_up(node.value, named) if isinstance(node, ast.Return) else None
        pairs = _pairs(table) if table is not None else []
        if len(pairs) >= 2:
            yield pairs


def _returned(body: list[ast.stmt]) -> tuple[bool, Any]:
    if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
        return _literal(body[0].value)
    return False, None


def _chain_tables(tree: ast.AST) -> Iterator[Table]:
    """``if x == 'Paris': return 'Sunny' elif x == 'Oslo': return 'Snow'`` as one table."""
    seen: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If) or id(node) in seen:
            continue
        pairs = []
        current: ast.stmt | None = node
        while isinstance(current, ast.If):
            seen.add(id(current))
            test = current.test
            if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq):
                for side in (test.comparators[0], test.left):
                    ok_key, key = _literal(side)
                    ok_value, value = _returned(current.body)
                    if ok_key and ok_value:
                        pairs.append((key, value))
                        break
            current = current.orelse[0] if len(current.orelse) == 1 else None
        if len(pairs) >= 2:
            yield pairs


def _scalars(args: dict[str, Any]) -> list[Any]:
    return [v for v in args.values() if isinstance(v, str | int | float) and not isinstance(v, bool)]


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.strip().casefold() == b.strip().casefold()
    return agrees(a, b)


def answers_from_table(code: str, cases: list[TestCase]) -> str:
    """Why ``code`` recalls its tests instead of computing them ("" when it does not)."""
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    valued = [c for c in cases if not c.raises]
    if len(valued) < 2:
        return ""
    tested = [v for c in valued for v in _scalars(c.args)]
    for table in (*_dict_tables(tree), *_chain_tables(tree)):
        recalled = [
            c
            for c in valued
            if any(
                _same(arg, key) and _same(c.expected, value)
                for arg in _scalars(c.args)
                for key, value in table
            )
        ]
        keys_tested = sum(any(_same(key, t) for t in tested) for key, _value in table)
        if len(recalled) >= 2 and 2 * len(recalled) >= len(valued) and 2 * keys_tested >= len(table):
            shown = ", ".join(repr(c.args) for c in recalled[:3])
            return (
                f"answers its tests from a table: the outputs for {shown} are stored in the code, "
                "not computed; compute the answer from the inputs"
            )
    return ""
