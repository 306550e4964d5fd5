"""A request that writes out the function it wants: a signature and a docstring (with or without
examples), and maybe the code around it (imports, a helper it goes with). Such a request is its
own spec: the signature is kept exactly, the docstring is shown to every step as written (a
paraphrase loses what the tests and the code need), its examples are anchors, and the code
around the stub is kept with the tool, since the function may call it."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

from tui_agent.core.tool.infer import NotASpec, function_spec
from tui_agent.core.tool.spec import ToolSpec

FENCE = re.compile(r"```(?:python|py)?\s*\n(.*?)```", re.DOTALL)
CODE_START = re.compile(r"^(?:from\s+\S+\s+import|import\s|def\s|@|class\s)", re.M)


@dataclass(frozen=True)
class DescribedFunction:
    name: str
    stub: str  # the signature and docstring, as written
    context: str  # the request's other code (imports, helpers), in its order
    spec: ToolSpec | None  # None when the docstring is missing or a parameter cannot be read


def _tree(request: str) -> tuple[ast.Module, str] | None:
    """The request's code: all of it, a fenced block, or everything from the first line that
    starts like code."""
    candidates = [request, *FENCE.findall(request)]
    if found := CODE_START.search(request):
        candidates.append(request[found.start() :])
    for text in candidates:
        try:
            return ast.parse(text), text
        except SyntaxError:
            continue
    return None


def _is_stub(function: ast.FunctionDef) -> bool:
    """A body of a docstring only (maybe with ``pass`` or ``...``): the function to write."""
    body = function.body
    if not body or not isinstance(body[0], ast.Expr) or not isinstance(body[0].value, ast.Constant):
        return False
    if not isinstance(body[0].value.value, str):
        return False
    rest = body[1:]
    return all(
        isinstance(n, ast.Pass) or (isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant))
        for n in rest
    )


def described_function(request: str) -> DescribedFunction | None:
    """The function a request writes out as a stub, or None when it writes out none."""
    parsed = _tree(request)
    if parsed is None:
        return None
    tree, text = parsed
    stubs = [n for n in tree.body if isinstance(n, ast.FunctionDef) and _is_stub(n)]
    if not stubs:
        return None
    target = stubs[-1]
    stub = ast.get_source_segment(text, target) or ""
    kept = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign)
    context = "\n\n".join(
        segment
        for node in tree.body
        if node is not target and isinstance(node, kept)
        if (segment := ast.get_source_segment(text, node))
    )
    try:
        spec: ToolSpec | None = function_spec(target, untyped=True)
    except NotASpec:
        spec = None
    written = "\n\n\n".join(
        segment
        for node in tree.body
        if node is target or isinstance(node, kept)
        if (segment := ast.get_source_segment(text, node))
    )
    if spec is not None:
        spec = spec.model_copy(update={"described": True, "context": context, "written": written})
    return DescribedFunction(target.name, stub, context, spec)


def with_context(code: str, context: str) -> str:
    """The tool's code with the request's own code it relies on: each import, helper and constant
    of the request that the code uses (directly or through another of them) and does not define
    itself, placed before it in the request's order."""
    if not context.strip():
        return code
    try:
        ours = ast.parse(code)
        theirs = ast.parse(context)
    except SyntaxError:
        return code
    defined = {name for node in ours.body for name in _names_bound(node)}
    used = _names_used(ours)
    needed: list[ast.stmt] = []
    grew = True
    while grew:
        grew = False
        for node in theirs.body:
            names = _names_bound(node)
            if node not in needed and names & used and not names <= defined:
                needed.append(node)
                used |= _names_used(node)
                grew = True
    kept = [ast.get_source_segment(context, n) or "" for n in theirs.body if n in needed]
    return "\n\n".join([*(k for k in kept if k), code]) if needed else code


def _names_used(tree: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def _names_bound(node: ast.stmt) -> set[str]:
    if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return {node.name}
    if isinstance(node, ast.Import | ast.ImportFrom):
        return {(a.asname or a.name).split(".")[0] for a in node.names}
    if isinstance(node, ast.Assign):
        return {t.id for t in node.targets if isinstance(t, ast.Name)}
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return {node.target.id}
    return set()


SECTION = re.compile(r"^\s*(args|arguments|parameters|params|returns?|raises|examples?)\s*:\s*$", re.I)
ARG_LINE = re.compile(r"^\s*\*{0,2}([A-Za-z_]\w*)\s*(?:\([^)]*\))?\s*:\s*(.+?)\s*$")


def _prose_and_arguments(docstring: str) -> tuple[str, dict[str, str]]:
    """A docstring's prose (without doctests and sections) and its ``Args:`` lines by name."""
    prose: list[str] = []
    described: dict[str, str] = {}
    section = ""
    after_call = False
    for line in docstring.splitlines():
        text = line.strip()
        if text.startswith(">>>") or (after_call and text):
            after_call = text.startswith(">>>")  # a doctest's result line follows its call
            continue
        if heading := SECTION.match(line):
            section = heading.group(1).lower()
        elif section in ("args", "arguments", "parameters", "params"):
            if found := ARG_LINE.match(line):
                described[found.group(1)] = found.group(2)
        elif not section:
            prose.append(line)
    return "\n".join(prose).strip(), described


def _typed_like(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    return {int: "int", float: "float", str: "str", list: "list", dict: "dict"}.get(type(value), "any")


def stub_spec(code: str) -> ToolSpec | None:
    """The spec a model wrote as a function stub (signature, docstring with an ``Args:`` line per
    parameter and doctest examples), or None when the reply holds no such function. A code model
    writes this form more reliably than a JSON schema, in fewer tokens and with no grammar."""
    parsed = _tree(code)
    if parsed is None:
        return None
    functions = [n for n in parsed[0].body if isinstance(n, ast.FunctionDef)]
    public = [n for n in functions if not n.name.startswith("_")] or functions
    if not public:
        return None
    try:
        spec = function_spec(public[0], untyped=True)
    except NotASpec:
        return None
    prose, described = _prose_and_arguments(spec.docstring)
    first = spec.examples[0].args if spec.examples else {}
    parameters = [
        p.model_copy(
            update={
                "description": described.get(p.name, p.description),
                **({"type": _typed_like(first[p.name])} if p.type == "any" and p.name in first else {}),
            }
        )
        for p in spec.parameters
    ]
    description = prose.split("\n\n")[0].replace("\n", " ").strip() or spec.description
    # the model computed these results: worked examples, not values a request stated
    examples = [e.model_copy(update={"stated": False}) for e in spec.examples]
    returns = spec.return_type
    if returns == "any" and examples:
        returns = _typed_like(examples[0].result)
    return spec.model_copy(
        update={
            "parameters": parameters,
            "description": description,
            "docstring": prose,
            "examples": examples,
            "return_type": returns,
        }
    )
