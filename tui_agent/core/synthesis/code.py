"""Code in and out of the model: the function in a reply, and the stub the tests must fail on."""

from __future__ import annotations

import ast
import builtins
import functools
import importlib
import io
import re
import tokenize

from tui_agent.core.tool.spec import ToolSpec


def extract_code(text: str) -> str:
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, re.DOTALL)
    if blocks:
        return max(blocks, key=len).strip() + "\n"
    if "```" in text:  # an unterminated block while streaming
        return text.split("```", 1)[1].removeprefix("python").strip() + "\n"
    return text.strip() + "\n"


def stub_source(spec: ToolSpec) -> str:
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in spec.parameters)
    return f"def {spec.function_name}({params}):\n    raise NotImplementedError\n"


def rename_function(source: str, old: str, new: str) -> str:
    """``source`` with every use of the name ``old`` (the definition, recursive calls) as ``new``;
    strings and comments are left as they are."""
    tokens = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.NAME and token.string == old:
            token = token._replace(string=new)
        tokens.append(token)
    return tokenize.untokenize(tokens)


def defines(source: str, name: str) -> bool:
    """Whether ``source`` defines a top-level function ``name``."""
    return re.search(rf"^(async\s+)?def\s+{re.escape(name)}\s*\(", source, re.M) is not None


TYPING_NAMES = (
    "List",
    "Dict",
    "Tuple",
    "Optional",
    "Any",
    "Union",
    "Set",
    "Iterable",
    "Sequence",
    "Callable",
)


def with_typing_imports(source: str) -> str:
    """A signature kept as stated (``List[float]``) needs its ``typing`` names: the ones used and
    not imported are imported, so the stated signature never costs a NameError."""
    used = [n for n in TYPING_NAMES if re.search(rf"\b{n}\[|\b{n}\b\s*[,)\]=]|->\s*{n}\b", source)]
    missing = [
        n for n in used if not re.search(rf"^\s*(from typing import .*\b{n}\b|import typing)", source, re.M)
    ]
    if not missing:
        return source
    return f"from typing import {', '.join(missing)}\n" + source


# Standard modules a small model uses without importing them (``csv.reader`` with no ``import csv``).
MODULES = frozenset(
    [
        "csv",
        "json",
        "re",
        "math",
        "os",
        "datetime",
        "statistics",
        "collections",
        "itertools",
        "functools",
        "string",
        "decimal",
        "fractions",
        "calendar",
        "time",
        "random",
        "operator",
    ]
)


def _bound(tree: ast.AST) -> set[str]:
    """Every name the code binds: imports, assignments and loop targets, parameters, definitions."""
    bound: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            bound |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            bound.add(node.id)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.ExceptHandler):
            bound.add(node.name or "")
    return bound


def with_module_imports(source: str) -> str:
    """The standard modules the code uses as ``module.name`` and never imports or binds, imported:
    a forgotten ``import csv`` is a slip, not a reason to throw away a repair."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    used = {
        node.value.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name)
    }
    missing = sorted((used & MODULES) - _bound(tree))
    return "".join(f"import {m}\n" for m in missing) + source if missing else source


# Where a bare name a model forgot to import comes from, first module first (``sqrt``, ``mean``).
HOMES = (
    "math",
    "statistics",
    "datetime",
    "calendar",
    "fractions",
    "decimal",
    "collections",
    "itertools",
    "functools",
    "string",
)


@functools.cache
def standard_home(name: str) -> str | None:
    """The first standard module in :data:`HOMES` that exports ``name``, if any."""
    if name.startswith("_"):
        return None
    return next((m for m in HOMES if hasattr(importlib.import_module(m), name)), None)


def unbound_names(source: str, given: frozenset[str] = frozenset()) -> list[str]:
    """Names the code reads and nothing binds: not a builtin, not ``given``, not a module name.
    A bare ``sqrt`` is a forgotten import (:func:`standard_home`); anything else is a value the
    code expects from outside, such as a ``birth_year`` nobody gave."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    known = _bound(tree) | given | MODULES | set(dir(builtins))
    names = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load) and node.id not in known
    }
    return sorted(names)


def with_name_imports(source: str) -> str:
    """Bare standard names the code never imports (``gcd``, ``mean``), imported from their home."""
    homes = {name: standard_home(name) for name in unbound_names(source)}
    lines = [f"from {home} import {name}\n" for name, home in sorted(homes.items()) if home]
    return "".join(lines) + source


def without_tests(source: str) -> str:
    """The code without the tests a small model appends to it: top-level ``test_*`` functions
    (decorators included), ``import pytest``, an ``if __name__ == "__main__"`` block, bare
    top-level asserts and calls (``print(f(3))``). They
    never belong to the tool, and a ``@pytest.mark`` there stops tool.py from importing at all."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    drop: list[tuple[int, int]] = []
    for node in tree.body:
        start = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
        end = node.end_lineno or node.lineno
        if (
            (isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"))
            or (isinstance(node, ast.Import) and all(a.name.split(".")[0] == "pytest" for a in node.names))
            or (isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "pytest")
            or (isinstance(node, ast.If) and "__main__" in ast.unparse(node.test))
            or isinstance(node, ast.Assert)  # a check of its own: a wrong one stops the import
            or (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call))  # print(f(3))
        ):
            drop.append((start, end))
    if not drop:
        return source
    lines = source.splitlines(keepends=True)
    kept = [line for n, line in enumerate(lines, 1) if not any(a <= n <= b for a, b in drop)]
    return "".join(kept).rstrip() + "\n"


def with_spec_header(source: str, spec: ToolSpec) -> str:
    """The model's function under the spec's exact signature and docstring: the host writes what
    it already has, the model only the body. Left as it is when the model's parameters are not
    the spec's (its body would read names the header does not give) or it does not parse, and for
    a function the request wrote out (its header stays exactly as the request wrote it)."""
    if spec.described:
        return source
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return source
    node = next(
        (n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == spec.function_name), None
    )
    if node is None or not node.body:
        return source
    names = [a.arg for a in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs)]
    if names != [p.name for p in spec.parameters] or node.args.vararg or node.args.kwarg:
        return source
    body = node.body
    if (
        isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and isinstance(body[0].value.value, str)
    ):
        body = body[1:]
    lines = source.splitlines()
    start = node.lineno - 1  # the def line (decorators above it stay)
    first = body[0].lineno - 1 if body else node.end_lineno
    header = f"{spec.signature()}:"
    if spec.docstring.strip():
        doc = spec.docstring.strip().replace('"""', "'''")
        header += "\n" + "\n".join(f"    {line}".rstrip() for line in f'"""{doc}\n"""'.splitlines())
    rest = lines[first:] if body else ["    pass"]
    return "\n".join([*lines[:start], header, *rest]) + "\n"
