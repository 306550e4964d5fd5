"""Is a drafted spec usable? The signature a description names, invented error rules, and
whether its worked examples call it with the request's own values."""

from __future__ import annotations

import ast
import re
from typing import Any

from tui_agent.core.request.values import grounded, named_files, request_values
from tui_agent.core.tool.cases import TestCase, agrees, with_inline_files
from tui_agent.core.tool.infer import doctest_examples
from tui_agent.core.tool.record import ToolStoreError, validate_name
from tui_agent.core.tool.spec import PYTHON_TYPES, Example, Parameter, ToolSpec, renamed_parameters
from tui_agent.core.tool.types import base_type

SIGNATURE = re.compile(
    r"(?:def\s+)?([A-Za-z_]\w*)\s*\(([^()]*)\)\s*(?:->\s*([^\n:]+?))?\s*(?::|$|\n|\.\s)", re.M
)


def declared_signature(description: str) -> tuple[str, list[Parameter], str | None] | None:
    """``name(a: List[int], b: float = 1.0) -> Optional[int]`` named in a description, if any,
    with each annotation kept exactly as written."""
    for match in SIGNATURE.finditer(description):
        if not match.group(2).strip():
            continue
        returns = (match.group(3) or "").strip() or None
        try:
            tree = ast.parse(f"def {match.group(1)}({match.group(2)}) -> {returns or 'None'}: pass")
        except SyntaxError:
            continue
        function = tree.body[0]
        assert isinstance(function, ast.FunctionDef)
        args = function.args.args
        if not args or not all(a.annotation is not None for a in args):
            continue  # "foo(bar)" in prose is not a signature
        defaults = [None] * (len(args) - len(function.args.defaults)) + list(function.args.defaults)
        params = []
        for arg, default in zip(args, defaults, strict=True):
            written = ast.unparse(arg.annotation) if arg.annotation is not None else "str"
            if default is None:
                params.append(Parameter(name=arg.arg, type=written))
            else:
                try:
                    value = ast.literal_eval(default)
                except ValueError:
                    value = None
                params.append(Parameter(name=arg.arg, type=written, default=value, required=False))
        return match.group(1), params, returns
    return None


def says_when_it_fails(spec: ToolSpec) -> bool:
    """Whether the spec's own words name a failure or a limit of its inputs."""
    text = f"{spec.description} {spec.docstring}".lower()
    return any(word in text for word in ("raise", "error", "invalid", "must be", "only ", "negative", "zero"))


def overspecified(spec: ToolSpec, case: TestCase) -> bool:
    """An error case whose arguments all have the declared types, for a spec that never says when
    it fails: the model invented a rule the spec does not have."""
    if not case.raises or says_when_it_fails(spec):
        return False
    kinds = {p.name: p.type for p in spec.parameters}
    return all(k in kinds and _has_type(v, kinds[k]) for k, v in case.args.items())


def _has_type(value: Any, kind: str) -> bool:
    if kind == "any":
        return True
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, PYTHON_TYPES[kind])


def own_example(spec: ToolSpec, request: str) -> Example | None:
    """The worked example that calls the spec with the request's own values, if one does."""
    required = {p.name for p in spec.parameters if p.required}
    for example in spec.examples:
        if required <= set(example.args) and all(grounded(v, request) for v in example.args.values()):
            return example
    return None


def _kind_of(computed: Any) -> str:
    """The kind of answer the request's answer worked out apart is: yes/no, a count, or ""."""
    if isinstance(computed, bool):
        return "yes/no"
    return "count" if isinstance(computed, int) else ""


def disagreement(spec: ToolSpec, request: str, computed: Any) -> str:
    """Why the spec's example for the request's own values is not what the request works out to
    apart, or "" when it is (or there is no such example, or nothing computed)."""
    own = own_example(spec, request)
    if computed is None or own is None or agrees(own.result, computed):
        return ""
    call = ", ".join(f"{k}={v!r}" for k, v in own.args.items())
    return (
        f"the request works out to {computed!r}, but {spec.function_name}({call}) is said to give "
        f"{own.result!r}: design the function that computes exactly what the request asks"
    )


def spec_problem(spec: ToolSpec, request: str, computed: Any = None) -> str:
    """Why a spec cannot serve its own request, or "". A request that writes out values must be
    answerable by one of the spec's examples built from those values alone: a parameter that
    would need a value the request never gives (the answer itself, say: f(kilometers, miles))
    fails this. The reason names the request's values: a small model told "use 80, 100" designs
    f(start, end) where a general remark got f(value, percent) three times over."""
    if declared_signature(request):
        return ""  # a described function: its own examples are the anchors
    if any(p.type == "file" for p in spec.parameters):
        return ""  # the request's file cannot be an example (its content is unknown): inline ones are
    kind = _kind_of(computed)
    results = [e.result for e in spec.examples]
    if kind == "yes/no" and results and not all(isinstance(r, bool) for r in results):
        return "the request asks a yes/no question: the function must return True or False"
    disagreeing = disagreement(spec, request, computed)
    if disagreeing:
        return disagreeing
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


RATIO_WORDS = re.compile(
    r"average|mean|ratio|rate|percent|bmi|body mass|density|speed|per |divid|fraction|probab"
)


def plausible_return(spec: ToolSpec, computed: Any = None) -> ToolSpec:
    """Correct a declared return type that would force a distortion, from the examples and from
    the kind of the request's answer worked out apart (a bool, an int)."""
    results = [e.result for e in spec.examples]
    returns = spec.return_type.strip()
    if returns == "int" and (
        any(isinstance(r, float) and not r.is_integer() for r in results)
        or RATIO_WORDS.search(f"{spec.function_name.replace('_', ' ')} {spec.description}".lower())
    ):
        # "-> int" for a BMI or an average makes every implementation round (or scale by 100)
        returns = "float"
    kind = _kind_of(computed)
    if isinstance(computed, float) and not computed.is_integer() and returns == "int":
        returns = "float"
    if kind == "yes/no" and results and all(isinstance(r, bool) for r in results):
        returns = "bool"
    if (
        kind == "count"
        and returns in ("float", "str")
        and results
        and all(isinstance(r, int) for r in results)
    ):
        returns = "int"
    return spec if returns == spec.return_type else spec.model_copy(update={"return_type": returns})


def usable_name(spec: ToolSpec) -> str:
    """The spec's function name, or one that shadows nothing: `len` for "count the characters
    of a string" becomes `count_characters_string`."""
    try:
        return validate_name(spec.function_name)
    except ToolStoreError:
        pass
    words = [w for w in re.findall(r"[a-z]+", spec.description.lower()) if w not in NAME_FILLER][:3]
    for candidate in ("_".join(words), f"{spec.function_name.strip('_').lower()}_value", "computed_value"):
        try:
            return validate_name(candidate)
        except ToolStoreError:
            continue
    return "computed_value"


NAME_FILLER = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "to",
        "for",
        "and",
        "or",
        "is",
        "are",
        "given",
        "return",
        "returns",
        "with",
        "from",
        "by",
        "its",
        "it",
        "that",
        "this",
    ]
)


def settle_spec(spec: ToolSpec, request: str, computed: Any = None) -> ToolSpec:
    """A drafted spec made usable, never refused: the signature a request states kept exactly,
    the request's own doctest examples as the anchors, parameter names that clash renamed,
    examples that do not fit the parameters dropped, a distorting return type corrected, and a
    function name that shadows Python or a keyword replaced."""
    declared = declared_signature(request)
    if declared:
        name, params, returns = declared
        spec = spec.model_copy(
            update={"function_name": name, "parameters": params, "return_type": returns or spec.return_type}
        )
        stated = request_examples(request, spec)
        if stated:
            spec = spec.model_copy(update={"examples": stated})
    spec = file_parameters(renamed_parameters(spec), named_files(request))
    names = {p.name for p in spec.parameters}
    files = {p.name for p in spec.parameters if p.type == "file"}
    examples = [
        e.model_copy(update={"args": args})
        for e in spec.examples
        if set(e.args) <= names
        and all(p.name in e.args for p in spec.parameters if p.required)
        and (args := with_inline_files(e.args, files)) is not None  # a file's content is known
    ]
    spec = plausible_return(spec.model_copy(update={"examples": examples}), computed)
    name = usable_name(spec)
    return spec if name == spec.function_name else spec.model_copy(update={"function_name": name})


FILEISH = re.compile(r"(^|_)(file|files|path|paths|filename|filepath|fname|csv|json|txt|log|document)(_|$)")


def file_parameters(spec: ToolSpec, files: list[str]) -> ToolSpec:
    """A request that names a file on this machine is served by a parameter of type file,
    whatever the draft called its type: a small model writes ``file_path: str``, and only a
    file parameter gets the named file into the sandbox and small inline files into its tests.
    The parameter is the one named like a path, or whose example is the file's name."""
    if not files or any(p.type == "file" for p in spec.parameters):
        return spec
    names = {f.lower() for f in files}

    def names_the_file(p: Parameter) -> bool:
        given = [e.args.get(p.name) for e in spec.examples]
        return bool(FILEISH.search(p.name.lower())) or any(
            isinstance(v, str) and v.lower() in names for v in given
        )

    fileish = [p for p in spec.parameters if base_type(p.type) in ("str", "any") and names_the_file(p)]
    if not fileish:
        return spec
    retyped = [
        p.model_copy(update={"type": "file", "annotation": ""}) if p is fileish[0] else p
        for p in spec.parameters
    ]
    return spec.model_copy(update={"parameters": retyped})


def with_samples(spec: ToolSpec, samples: dict[str, str]) -> ToolSpec:
    """Each file parameter gets how its file begins: the one its example names, else the next
    file in the order the request named them."""
    files = [p for p in spec.parameters if p.type == "file"]
    if not files or not samples:
        return spec
    left = dict(samples)
    chosen: dict[str, str] = {}
    for p in files:
        named = next((str(e.args[p.name]) for e in spec.examples if str(e.args.get(p.name)) in left), None)
        name = named or next(iter(left), None)
        if name is not None:
            chosen[p.name] = left.pop(name)
    params = [
        p.model_copy(update={"sample": chosen[p.name]}) if p.name in chosen else p for p in spec.parameters
    ]
    return spec.model_copy(update={"parameters": params})


def request_examples(request: str, spec: ToolSpec) -> list[Example]:
    """The worked examples a request writes out as doctests, read as data."""
    return doctest_examples(request, spec.function_name, [p.name for p in spec.parameters])
