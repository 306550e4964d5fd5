"""A spec read from a plain ``tool.py``: its one public function's signature (type hints required),
its docstring, and the worked examples its docstring writes as doctests. What people write by
hand, and what a folder without ``tool.json`` carries."""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from typing import Any

from tui_agent.core.tool.spec import Example, Parameter, ToolSpec
from tui_agent.core.tool.types import base_type


class NotASpec(ValueError):
    """The source cannot be read as a tool; the message says which part, in one line."""


def _data(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_data(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _data(v) for k, v in value.items()}
    return value


# What separates a call from its result where a description writes an example on one line:
# ``f(3) == 4``, ``f(3) ==> 4``, ``f(3) => 4``, ``f(3) -> 4``, ``f(3) ➞ 4``, ``f(3) = 4``, ``f(3) returns 4``.
RESULT_SEPARATOR = re.compile(
    r"\s*(?:#\s*)?(?:==>|=>|==|->|→|➞|=|\bshould\s+(?:return|be|give)\b|\breturns?\b|\bgives\b|\byields\b)\s*"
)


def _call_end(text: str, start: int) -> int | None:
    """The index just past the parenthesis that closes the one opened at ``start``."""
    depth, quote, i = 0, "", start
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return None


ARITHMETIC = re.compile(r"[\d\s.+\-*/()]+")
JSON_WORDS = {"true": True, "false": False, "null": None}


def _literal(text: str) -> tuple[bool, Any]:
    """``text`` read as a Python literal, also without trailing punctuation or a comment, as a
    JSON word (``true``), or as the value that ends a worked sum (``19 - 5 - 6 = 8``)."""
    candidates = [text.strip()]
    trimmed = re.sub(r"\s*#.*$", "", text).strip().rstrip(".,;")
    worked, _, value = trimmed.rpartition(" = ")
    candidates += [trimmed, value if ARITHMETIC.fullmatch(worked) else ""]
    for candidate in candidates:
        if candidate in JSON_WORDS:
            return True, JSON_WORDS[candidate]
        if not candidate:
            continue
        try:
            return True, _data(ast.literal_eval(candidate))
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            continue
    return False, None


def _boxed(text: str) -> tuple[Any] | None:
    """``text`` as a literal in a box (a literal may be None), or None when it is not one."""
    ok, value = _literal(text)
    return (value,) if ok else None


def _arguments(inner: str, params: list[str]) -> dict[str, Any] | None:
    try:
        call = ast.parse(f"f({inner})", mode="eval").body
        assert isinstance(call, ast.Call)
        if len(call.args) > len(params) or any(isinstance(a, ast.Starred) for a in call.args):
            return None
        args = {params[n]: _data(ast.literal_eval(a)) for n, a in enumerate(call.args)}
        args.update({k.arg: _data(ast.literal_eval(k.value)) for k in call.keywords if k.arg})
    except (ValueError, SyntaxError, AssertionError, TypeError, MemoryError, RecursionError):
        return None
    return args if set(args) <= set(params) else None


def doctest_examples(text: str, function: str, params: list[str]) -> list[Example]:
    """The worked examples a text writes out, read as data: calls with their results
    (:func:`called_examples`), then parameters assigned with the output said in words
    (:func:`assigned_examples`); the first example of each set of arguments counts."""
    lines = text.splitlines()
    found: dict[str, Example] = {}
    for args, result in [*called_examples(lines, function, params), *assigned_examples(lines, params)]:
        found.setdefault(repr(sorted(args.items())), Example(args=args, result=result, stated=True))
    return list(found.values())


def called_examples(lines: list[str], function: str, params: list[str]) -> list[tuple[dict[str, Any], Any]]:
    """A ``>>> function(args)`` line and the result on the next line, or a call and its result
    on one line (``function(args) == result``, ``=>``, ``➞``, ``returns`` ...). A line that does
    not read as literals is not an example."""
    found = []
    call = re.compile(rf"(?<![\w.]){re.escape(function)}\(")
    for i, line in enumerate(lines):
        match = call.search(line)
        if not match or re.match(r"\s*def\s", line):
            continue
        end = _call_end(line, match.end() - 1)
        if end is None:
            continue
        args = _arguments(line[match.end() : end - 1], params)
        if args is None:
            continue
        rest = line[end:]
        ok, result = False, None
        if line.lstrip().startswith(">>>") and not rest.strip():
            following = lines[i + 1].strip() if i + 1 < len(lines) else ""
            if following and not following.startswith(">>>"):
                ok, result = _literal(following)
        elif separator := RESULT_SEPARATOR.match(rest):
            ok, result = _literal(rest[separator.end() :])
        if ok:
            found.append((args, result))
    return found


# ``For lst = [1, 2] the output should be 5.``; ``Input: arr = [1, 2], k = 1`` then ``Output: 1``
ASSIGNED = re.compile(r"\b([A-Za-z_]\w*)\s*=(?!=)")
OUTPUT = re.compile(
    r"(?:\b(?:the\s+)?(?:output|result|answer|return\s+value)\s*(?:should\s+be|will\s+be|would\s+be"
    r"|is|:|=)|\breturns?\b|==>|=>|->|→|➞)\s*",
    re.I,
)


def assigned_examples(lines: list[str], params: list[str]) -> list[tuple[dict[str, Any], Any]]:
    """Examples written as assignments to every parameter, then the output said in words, on
    the same line or the next one (a form HumanEval's and many puzzle sites' problems use)."""
    found = []
    for i, line in enumerate(lines):
        read = _assigned(line, params)
        if read is None:
            continue
        args, used = read
        # the next line only when it says the output (a code line's "return 0" is no answer)
        after = [line[used:], *(n for n in lines[i + 1 : i + 2] if SAYS_OUTPUT.match(n))]
        said = next((m for text in after if (m := OUTPUT.search(text))), None)
        if said is None:
            continue
        # a sentence's full stop is not a decimal point: "the output should be 1."
        result = _longest(said.string[said.end() :], lambda t: _boxed(t.rstrip(".,;")))
        if result is not None:
            found.append((args, result[0][0]))
    return found


INPUT = re.compile(r"^\s*input\s*:\s*", re.I)
SAYS_OUTPUT = re.compile(r"\s*(?:the\s+)?(?:output|result|answer|expected)\b", re.I)
MORE = re.compile(r"\s*,?\s*[A-Za-z_]\w*\s*=(?!=)")


def _assigned(line: str, params: list[str]) -> tuple[dict[str, Any], int] | None:
    """Every parameter's value a line assigns (``Input: 3`` for a function of one parameter),
    and where the assignments end."""
    if re.match(r"\s*(def|return|for|if|while)\b", line):
        return None
    start = next((m.start() for m in ASSIGNED.finditer(line) if m.group(1) in params), None)
    if start is not None:
        read = _longest(line[start:], lambda t: _arguments(t.rstrip().rstrip(","), params))
        end = start + read[1] if read is not None else 0
        # every parameter set, and nothing else: "lst = [1], k = 2" is no example of f(lst)
        if read is not None and set(read[0]) == set(params) and not MORE.match(line[end:]):
            return read[0], end
    bare = INPUT.match(line)
    if bare is not None and start is None and len(params) == 1:
        value = _longest(line[bare.end() :], _boxed)
        if value is not None:
            return {params[0]: value[0][0]}, bare.end() + value[1]
    return None


def _longest(text: str, read: Callable[[str], Any]) -> tuple[Any, int] | None:
    """What ``read`` makes of the longest start of ``text`` it reads, and that start's length."""
    for end in range(len(text), 0, -1):
        if text[end - 1].isspace():
            continue
        value = read(text[:end])
        if value is not None:
            return value, end
    return None


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
    return function_spec(public[0])


def function_spec(function: ast.FunctionDef, *, untyped: bool = False) -> ToolSpec:
    """The spec a function's signature and docstring state. ``untyped``: a parameter without a
    type hint takes any value (a request that describes a function may leave hints out); else
    it is an error that names the parameter."""
    args = function.args
    if args.vararg or args.kwarg or args.posonlyargs or args.kwonlyargs:
        raise NotASpec(
            f"{function.name} takes *args, **kwargs or special arguments: give it plain parameters"
        )
    defaults = [None] * (len(args.args) - len(args.defaults)) + list(args.defaults)
    parameters = []
    for arg, default in zip(args.args, defaults, strict=True):
        if arg.annotation is None and not untyped:
            raise NotASpec(f"parameter {arg.arg!r} of {function.name} has no type hint: write one (x: float)")
        written = ast.unparse(arg.annotation) if arg.annotation is not None else "any"
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
        examples=one_kind(examples, returns),
    )


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int | float):
        return "number"
    return type(value).__name__


def one_kind(examples: list[Example], returns: str = "any") -> list[Example]:
    """A function returns one kind of value. Where stated results differ in kind, the text was
    also defining something else (``tri(1) = 3`` beside ``tri(3) = [1, 3, 2, 8]``): the kind the
    return annotation names wins, else the kind of the last example (examples close a text)."""
    kinds = {_kind(e.result) for e in examples if e.result is not None}
    if len(kinds) <= 1:
        return examples
    wanted = {
        "list": "list",
        "dict": "dict",
        "str": "str",
        "bool": "bool",
        "int": "number",
        "float": "number",
    }
    kind = wanted.get(base_type(returns)) or _kind(examples[-1].result)
    return [e for e in examples if e.result is None or _kind(e.result) == kind]
