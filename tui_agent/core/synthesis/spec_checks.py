"""Is a drafted spec usable? The signature a description names, invented error rules, and
whether its worked examples call it with the request's own values."""

from __future__ import annotations

import ast
import re
from typing import Any

from tui_agent.core.request.values import grounded, request_values
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.spec import PYTHON_TYPES, Parameter, ToolSpec

PARAM_TYPES = frozenset(PYTHON_TYPES)


def declared_signature(description: str) -> tuple[str, list[Parameter], str | None] | None:
    """``name(a: int, b: float = 1.0) -> float`` named in a description, if any."""
    match = re.search(r"(?:def\s+)?([A-Za-z_]\w*)\s*\(([^()]*)\)\s*(?:->\s*([A-Za-z_]\w*))?", description)
    if not match or not match.group(2).strip():
        return None
    try:
        tree = ast.parse(f"def {match.group(1)}({match.group(2)}): pass")
    except SyntaxError:
        return None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    args = function.args.args
    defaults = [None] * (len(args) - len(function.args.defaults)) + list(function.args.defaults)
    params = []
    for arg, default in zip(args, defaults, strict=True):
        kind = (
            arg.annotation.id
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id in PARAM_TYPES
            else "str"
        )
        if default is None:
            params.append(Parameter(name=arg.arg, type=kind))  # type: ignore[arg-type]
        else:
            params.append(
                Parameter(name=arg.arg, type=kind, default=ast.literal_eval(default), required=False)
            )  # type: ignore[arg-type]
    if not any(isinstance(a.annotation, ast.Name) for a in args):
        return None  # "foo(bar)" in prose is not a signature
    return match.group(1), params, match.group(3)


def overspecified(spec: ToolSpec, case: TestCase) -> bool:
    """An error case whose arguments all have the declared types, for a spec that never says when
    it fails: the model invented a rule the spec does not have."""
    if not case.raises:
        return False
    text = f"{spec.description} {spec.docstring}".lower()
    if any(word in text for word in ("raise", "error", "invalid", "must be", "only ", "negative", "zero")):
        return False
    kinds = {p.name: p.type for p in spec.parameters}
    return all(k in kinds and _has_type(v, kinds[k]) for k, v in case.args.items())


def _has_type(value: Any, kind: str) -> bool:
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, PYTHON_TYPES[kind])


def spec_problem(spec: ToolSpec, request: str) -> str:
    """Why a spec cannot serve its own request, or "". A request that writes out values must be
    answerable by one of the spec's examples built from those values alone: a parameter that
    would need a value the request never gives (the answer itself, say: f(kilometers, miles))
    fails this. The reason names the request's values: a small model told "use 80, 100" designs
    f(start, end) where a general remark got f(value, percent) three times over."""
    values = request_values(request)
    if not values:
        return ""  # a description, not a concrete request: nothing to check against
    if any(all(grounded(v, request) for v in e.args.values()) for e in spec.examples):
        return ""
    head = (
        "it has no worked example"
        if not spec.examples
        else "no worked example uses only values from the request"
    )
    return (
        f"{head}; the request gives the values {', '.join(values)}: every parameter must be one of "
        "these inputs, the answer is the return value, and the first example must call the "
        "function with exactly these values"
    )
