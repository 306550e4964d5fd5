"""Reading a pytest file back into test cases, without running it.

Hand-written tests (an imported folder, a starter, a tool saved before cases were kept as data)
become cases the host can judge where they are plain: ``assert f(...) == value``, ``assert
f(...) is True``, ``assert f(...)`` / ``assert not f(...)``, ``with pytest.raises(E): f(...)``,
literal ``parametrize`` tables; an expected number may be written as arithmetic on numbers. Everything else is reported as unread, by test and line; a tool
with unread tests is never approved by verification alone."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Any

from tui_agent.core.tool.arithmetic import NotArithmetic, TooCostly, arithmetic_value, shown
from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS, TestCase, unique_cases

MAX_ROWS = 500  # parametrize tables multiply: a few long ones would be millions of cases


@dataclass
class ReadTests:
    cases: list[TestCase] = field(default_factory=list)
    unread: list[str] = field(default_factory=list)  # "test_x line 4: why"
    # Tests that asked for unbounded work or nested past reading: no honest test does (subset of unread).
    costly: list[str] = field(default_factory=list)


class _Unreadable(Exception):
    pass


class _Costly(_Unreadable):
    """A line that asks the reader for unbounded work, or nests past its stack."""


def _jsonable(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise _Unreadable("a dict with non-text keys")
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, set | frozenset | bytes | complex):
        raise _Unreadable(f"a {type(value).__name__} value")
    return value


def _literal(node: ast.expr, names: dict[str, Any]) -> Any:
    if isinstance(node, ast.Name) and node.id in names:
        return names[node.id]
    try:
        return _jsonable(ast.literal_eval(node))
    except (ValueError, SyntaxError, TypeError) as exc:
        raise _Unreadable(f"{shown(node)} is not a literal") from exc


def _expected(node: ast.expr, names: dict[str, Any]) -> Any:
    """An expected value: a literal, or arithmetic on numbers (``(4.5 + 1.2) / 2``), which the
    host works out, not the model."""
    try:
        return _literal(node, names)
    except _Unreadable:
        try:
            return arithmetic_value(node)
        except TooCostly as exc:
            raise _Costly(str(exc)) from None
        except NotArithmetic:
            raise _Unreadable(f"{shown(node)} is not a literal") from None


def _approx(node: ast.expr, names: dict[str, Any]) -> Any:
    """``pytest.approx(v)`` reads as ``v`` (the host compares floats within REL_TOL anyway)."""
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute | ast.Name)
        and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id) == "approx"
        and node.args
    ):
        value = _expected(node.args[0], names)
        return float(value) if isinstance(value, int) and not isinstance(value, bool) else value
    return _expected(node, names)


class _Reader:
    def __init__(self, function: str, params: list[str]) -> None:
        self.function = function
        self.params = params

    def call_args(self, node: ast.expr, names: dict[str, Any]) -> dict[str, Any] | None:
        """The keyword arguments of ``function(...)``, or None when ``node`` is not that call."""
        if not (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == self.function
        ):
            return None
        if len(node.args) > len(self.params):
            raise _Unreadable(f"more positional arguments than {self.function} has parameters")
        args = {self.params[i]: _literal(a, names) for i, a in enumerate(node.args)}
        for keyword in node.keywords:
            if keyword.arg is None:
                raise _Unreadable("**arguments")
            args[keyword.arg] = _literal(keyword.value, names)
        return args

    def from_assert(self, test: ast.expr, names: dict[str, Any]) -> tuple[dict[str, Any], Any]:
        if isinstance(test, ast.Compare) and len(test.ops) == 1:
            left, right, op = test.left, test.comparators[0], test.ops[0]
            for call, other in ((left, right), (right, left)):
                args = self.call_args(call, names)
                if args is None:
                    continue
                if isinstance(op, ast.Eq):
                    return args, _approx(other, names)
                if isinstance(op, ast.Is) and isinstance(other, ast.Constant):
                    return args, other.value
        args = self.call_args(test, names)
        if args is not None:
            return args, True
        if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
            args = self.call_args(test.operand, names)
            if args is not None:
                return args, False
        raise _Unreadable(f"`assert {shown(test)}` is not a plain check of {self.function}")

    def from_raises(self, node: ast.With, names: dict[str, Any]) -> tuple[dict[str, Any], str]:
        item = node.items[0].context_expr if len(node.items) == 1 else None
        if not (
            isinstance(item, ast.Call)
            and isinstance(item.func, ast.Attribute)
            and item.func.attr == "raises"
            and item.args
            and len(node.body) == 1
            and isinstance(node.body[0], ast.Expr)
        ):
            raise _Unreadable("a `with` block that is not pytest.raises around one call")
        wanted = item.args[0]
        kinds = wanted.elts if isinstance(wanted, ast.Tuple) else [wanted]
        exceptions = [k.id for k in kinds if isinstance(k, ast.Name) and k.id in ALLOWED_EXCEPTIONS]
        if not exceptions:
            raise _Unreadable(
                f"pytest.raises({shown(wanted)[:40]}) is not one of {', '.join(ALLOWED_EXCEPTIONS)}"
            )
        args = self.call_args(node.body[0].value, names)
        if args is None:
            raise _Unreadable(f"pytest.raises around something other than {self.function}(...)")
        return args, exceptions[0]

    def read(self, node: ast.FunctionDef, names: dict[str, Any], label: str) -> list[TestCase]:
        cases = []
        for statement in node.body:
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant):
                continue  # a docstring
            if isinstance(statement, ast.Assert):
                args, expected = self.from_assert(statement.test, names)
                cases.append(TestCase(name=label, args=args, expected=expected))
            elif isinstance(statement, ast.With):
                args, raises = self.from_raises(statement, names)
                cases.append(TestCase(name=label, args=args, raises=raises))
            else:
                raise _Unreadable(f"line {statement.lineno}: {type(statement).__name__.lower()} statement")
        if not cases:
            raise _Unreadable("it checks nothing")
        return cases


def _parametrize(node: ast.FunctionDef) -> list[dict[str, Any]]:
    """The rows of literal ``@pytest.mark.parametrize`` decorators ([{}] when there are none)."""
    rows: list[dict[str, Any]] = [{}]
    for decorator in node.decorator_list:
        if not (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)):
            raise _Unreadable(f"decorator {shown(decorator)[:40]}")
        if decorator.func.attr != "parametrize" or len(decorator.args) < 2:
            raise _Unreadable(f"decorator {shown(decorator)[:40]}")
        spec = ast.literal_eval(decorator.args[0])
        names = [n.strip() for n in spec.split(",")] if isinstance(spec, str) else list(spec)
        values = _literal(decorator.args[1], {})
        table = [dict(zip(names, v if len(names) > 1 else [v], strict=True)) for v in values]
        if len(rows) * len(table) > MAX_ROWS:
            raise _Costly(f"more than {MAX_ROWS} parametrized cases")
        rows = [{**row, **extra} for row in rows for extra in table]
    return rows


def read_tests(test_source: str, function: str, params: list[str]) -> ReadTests:
    """Cases from a pytest file for ``function(params...)``; the rest named in ``unread``."""
    found = ReadTests()
    try:
        tree = ast.parse(test_source)
    except SyntaxError as exc:
        found.unread.append(f"test_tool.py does not parse (line {exc.lineno})")
        return found
    except (RecursionError, MemoryError, ValueError) as exc:
        why = f"test_tool.py cannot be read ({type(exc).__name__}: nested or sized past reading)"
        found.unread.append(why)
        found.costly.append(why)
        return found
    reader = _Reader(function, params)
    tests: list[ast.FunctionDef] = []
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name.startswith("test"):
            tests.append(node)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            tests += [n for n in node.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")]
    for test in tests:
        label = test.name.removeprefix("test_") or test.name
        try:
            rows = _parametrize(test)
            for row in rows:
                found.cases += reader.read(test, row, label)
        except _Costly as exc:
            found.unread.append(f"{test.name} (line {test.lineno}): {exc}")
            found.costly.append(found.unread[-1])
        except (_Unreadable, ValueError, SyntaxError, TypeError) as exc:
            found.unread.append(f"{test.name} (line {test.lineno}): {exc}")
        except (RecursionError, MemoryError) as exc:
            found.unread.append(
                f"{test.name} (line {test.lineno}): too deep or too large to read ({type(exc).__name__})"
            )
            found.costly.append(found.unread[-1])
    found.cases = unique_cases(found.cases)
    return found


def _chunks(source: str) -> list[str]:
    """A reply cut into statements that parse on their own: one bad line costs only itself (a
    reply cut off by the token limit costs its last statement)."""
    chunks: list[str] = []
    for line in source.splitlines():
        if chunks and (line[:1] in (" ", "\t") or _open(chunks[-1])):
            chunks[-1] += "\n" + line  # the body of the statement above, or the rest of its string
        elif line.strip():
            chunks.append(line)
    return chunks


def _open(statement: str) -> bool:
    """Whether a statement is inside a triple-quoted string at its end (a file's text written
    line by line): the next line, wherever it starts, is more of that string. An unclosed
    bracket is not waited for: that is a slip, and it would take the next case with it."""
    return statement.count('"""') % 2 == 1 or statement.count("'''") % 2 == 1


def _label(args: dict[str, Any]) -> str:
    words = "_".join(f"{k}_{v}" for k, v in args.items())
    return "".join(c if c.isalnum() else "_" for c in words)[:40].strip("_") or "case"


def read_case_lines(source: str, function: str, params: list[str]) -> tuple[list[TestCase], int]:
    """Cases from the lines a model writes (``assert f(x=1) == 2``, ``with pytest.raises(E):``
    around one call, or test functions of such lines), and how many statements could not be
    read. Each statement is read on its own, so a slip in one line drops that case only. A name
    given a literal (``content = "item,price..."``) stands for it in the lines after."""
    reader = _Reader(function, params)
    cases: list[TestCase] = []
    names: dict[str, Any] = {}
    unread = 0
    try:
        statements = ast.parse(source).body
    except (SyntaxError, RecursionError, MemoryError, ValueError):
        statements = []
        for chunk in _chunks(source):
            try:
                statements += ast.parse(chunk).body
            except (SyntaxError, RecursionError, MemoryError, ValueError):
                unread += 1
    for statement in statements:
        try:
            if isinstance(statement, ast.Assert):
                args, expected = reader.from_assert(statement.test, names)
                cases.append(TestCase(name=_label(args), args=args, expected=expected))
            elif isinstance(statement, ast.With):
                args, raises = reader.from_raises(statement, names)
                cases.append(TestCase(name=_label(args), args=args, raises=raises))
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
            ):
                names.pop(statement.targets[0].id, None)  # an unreadable value hides the old one
                names[statement.targets[0].id] = _literal(statement.value, names)
            elif isinstance(statement, ast.FunctionDef) and statement.name.startswith("test"):
                for row in _parametrize(statement):
                    cases += reader.read(statement, row, statement.name.removeprefix("test_"))
            elif not isinstance(statement, ast.Import | ast.ImportFrom | ast.Expr):
                unread += 1
        except (_Unreadable, ValueError, SyntaxError, TypeError, RecursionError, MemoryError):
            unread += 1  # a line too deep or too large to read costs that line
    return cases, unread
