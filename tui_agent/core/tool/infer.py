"""A spec read from a plain ``tool.py``: its one public function's signature (type hints required),
its docstring, and the worked examples its docstring writes as doctests. What people write by
hand, and what a folder without ``tool.json`` carries."""

from __future__ import annotations

import ast
import re
from typing import Any

from tui_agent.core.tool.spec import Example, Parameter, ToolSpec


class NotASpec(ValueError):
    """The source cannot be read as a tool; the message says which part, in one line."""


def _data(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    return value


def doctest_examples(text: str, function: str, params: list[str]) -> list[Example]:
    """``>>> function(args)`` lines followed by their result line, read as data."""
    found = []
    lines = text.splitlines()
    for i, line in enumerate(lines):
        match = re.match(rf"\s*>>>\s*{re.escape(function)}\((.*)\)\s*$", line)
        if (
            not match
            or i + 1 >= len(lines)
            or not lines[i + 1].strip()
            or lines[i + 1].strip().startswith(">>>")
        ):
            continue
        try:
            call = ast.parse(f"f({match.group(1)})", mode="eval").body
            assert isinstance(call, ast.Call)
            args = {params[n]: _data(ast.literal_eval(a)) for n, a in enumerate(call.args)}
            args.update({k.arg: _data(ast.literal_eval(k.value)) for k in call.keywords if k.arg})
            found.append(
                Example(args=args, result=_data(ast.literal_eval(lines[i + 1].strip())), stated=True)
            )
        except (ValueError, SyntaxError, IndexError, AssertionError, TypeError):
            continue
    return found


def infer_spec(tool_source: str) -> ToolSpec:
    """The spec of the one public function in ``tool_source``; NotASpec says what is missing."""
    try:
        tree = ast.parse(tool_source)
    except SyntaxError as exc:
        raise NotASpec(f"tool.py does not parse (line {exc.lineno})") from None
    public = [n for n in tree.body if isinstance(n, ast.FunctionDef) and not n.name.startswith("_")]
    if len(public) != 1:
        names = ", ".join(n.name for n in public) or "none"
        raise NotASpec(f"tool.py must define exactly one public function (found: {names})")
    function = public[0]
    args = function.args
    if args.vararg or args.kwarg or args.posonlyargs or args.kwonlyargs:
        raise NotASpec(
            f"{function.name} takes *args, **kwargs or special arguments: give it plain parameters"
        )
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    parameters = []
    for arg, default in zip(args.args, defaults, strict=True):
        if arg.annotation is None:
            raise NotASpec(f"parameter {arg.arg!r} of {function.name} has no type hint: write one (x: float)")
        written = ast.unparse(arg.annotation)
        if default is None:
            parameters.append(Parameter(name=arg.arg, type=written))
        else:
            try:
                value = _data(ast.literal_eval(default))
            except ValueError:
                raise NotASpec(f"the default of {arg.arg!r} is not a plain value") from None
            parameters.append(Parameter(name=arg.arg, type=written, default=value, required=False))
    docstring = ast.get_docstring(function) or ""
    if not docstring.strip():
        raise NotASpec(f"{function.name} has no docstring: say in one line what it computes")
    returns = ast.unparse(function.returns) if function.returns is not None else "any"
    examples = doctest_examples(docstring, function.name, [p.name for p in parameters])
    return ToolSpec(
        function_name=function.name,
        description=docstring.strip().splitlines()[0],
        parameters=parameters,
        return_type=returns,
        docstring=docstring.strip(),
        examples=examples,
    )
