"""Cases the request's own code decides: when the request gives a helper that its function undoes
(``encode_cyclic`` beside the ``decode_cyclic`` to write), the function must give back whatever
the helper was given. The helper, run in the sandbox, computes the inputs; the expected values
are the plain inputs themselves, so neither the code under test nor any agreement between the
model's implementations can bend them (HumanEval/38: with no anchor, agreement had "corrected"
``decode_cyclic('abc')`` to the encoding)."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING, Any

from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.spec import ToolSpec

if TYPE_CHECKING:
    from tui_agent.core.sandbox.base import Sandbox

# verbs whose pair undoes the other; "un" + verb (wrap/unwrap) and a_to_b/b_to_a are read apart
OPPOSITES = {
    "encode": "decode",
    "encrypt": "decrypt",
    "compress": "decompress",
    "serialize": "deserialize",
    "encipher": "decipher",
    "obfuscate": "deobfuscate",
    "scramble": "unscramble",
}
PAIRS = {**OPPOSITES, **{v: k for k, v in OPPOSITES.items()}}
SAMPLES: dict[str, list[Any]] = {
    # lower-case letters only: an encoder may map the rest where no decoder can undo it
    # (HumanEval's encode_shift sends " " and "T" to letters)
    "str": ["a", "ab", "abc", "abcd", "hello", "xyz", "abcdefghijk", "zebrastripes"],
    "int": [1, 4, 9, 14, 42, 1994],
}
TO = re.compile(r"^([a-z0-9]+)_to_([a-z0-9]+)$")


def undoes(name: str, helper: str) -> bool:
    """Whether a function called ``name`` undoes one called ``helper`` (or the reverse: each
    of such a pair gives back the other's input)."""
    first, _, rest = name.partition("_")
    other, _, other_rest = helper.partition("_")
    if rest == other_rest and (PAIRS.get(first) == other or first == f"un{other}" or other == f"un{first}"):
        return True
    ours, theirs = TO.match(name), TO.match(helper)
    return bool(ours and theirs and ours.groups() == theirs.groups()[::-1])


def inverse_helper(spec: ToolSpec) -> tuple[str, str, str] | None:
    """The helper of the request's code that the function undoes, the name of its one argument
    and that argument's type ("" when unannotated); None when there is none."""
    if not spec.context.strip() or len([p for p in spec.parameters if p.required]) != 1:
        return None
    try:
        tree = ast.parse(spec.context)
    except SyntaxError:
        return None
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or not undoes(spec.function_name, node.name):
            continue
        args = node.args.args
        if len(args) - len(node.args.defaults) != 1:
            continue
        annotation = args[0].annotation
        return node.name, args[0].arg, ast.unparse(annotation) if annotation is not None else ""
    return None


async def round_trips(sandbox: Sandbox, spec: ToolSpec) -> tuple[str, list[TestCase]]:
    """Anchors from the helper the function undoes: for each plain input ``x``, the function
    given ``helper(x)`` must return ``x``. Inputs are the spec's example results and a few
    everyday values of the helper's argument type; an input the helper refuses is skipped, and
    a helper that gives two inputs the same output cannot be undone, so decides nothing. The
    helper's name comes first ("" when there is none)."""
    found = inverse_helper(spec)
    if found is None:
        return "", []
    helper, argument, kind = found
    plain = [e.result for e in spec.examples]
    kind = kind or (type(plain[0]).__name__ if plain else "")
    for value in SAMPLES.get(kind, []):
        if value not in plain:
            plain.append(value)
    if not plain:
        return helper, []
    run = await sandbox.run_cases(spec.context, helper, [{argument: x} for x in plain])
    if run.reason is not None:
        return helper, []
    parameter = next(p.name for p in spec.parameters if p.required)
    done = [(x, o.value) for x, o in zip(plain, run.outcomes, strict=False) if o.kind == "value"]
    if len({repr(y) for _, y in done}) < len(done):
        return helper, []
    return helper, [
        TestCase(name=f"undoes_{helper}_{i + 1}", args={parameter: y}, expected=x, anchor=True)
        for i, (x, y) in enumerate(done)
        if y is not None
    ]
