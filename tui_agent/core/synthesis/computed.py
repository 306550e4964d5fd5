"""The request's own answer, worked out apart (:mod:`flow.grounding`), in the spec of its new tool.

A spec's worked example for the request's own values is the model's arithmetic, and a small model
miscomputes (a compound interest balance, an average): right code was rejected for failing it.
When the request states no answer, the example takes the value a program computed for the same
request instead, so the tests hold what Python worked out, and it is an anchor: implementations
written from the spec share the spec's reading, so their agreement cannot overrule what the
request itself works out to (a spec that reads "what percentage of 160 is 40" as "160% of 40"
would have all of them give 64)."""

from __future__ import annotations

from typing import Any

from tui_agent.core.request.values import grounded
from tui_agent.core.tool.cases import agrees
from tui_agent.core.tool.spec import Example, ToolSpec


def _same_kind(a: Any, b: Any) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, numbers) and isinstance(b, numbers)) or type(a) is type(b)


def with_computed_example(spec: ToolSpec, request: str, computed: Any) -> tuple[ToolSpec, str]:
    """The spec with its example for the request's own values expecting ``computed``, and a line
    saying what changed ("" when nothing did: no such example, the request states its answers,
    the values already agree, or they are of another kind)."""
    if computed is None or any(e.stated for e in spec.examples):
        return spec, ""
    required = {p.name for p in spec.parameters if p.required}
    for i, example in enumerate(spec.examples):
        if not (required <= set(example.args) and all(grounded(v, request) for v in example.args.values())):
            continue
        if agrees(example.result, computed) or not _same_kind(example.result, computed):
            return spec, ""
        examples = list(spec.examples)
        examples[i] = Example(args=example.args, result=computed, stated=True)
        call = ", ".join(f"{k}={v!r}" for k, v in example.args.items())
        line = f"the worked example {spec.function_name}({call}) is {computed!r}, as computed apart, not {example.result!r}"
        return spec.model_copy(update={"examples": examples}), line
    return spec, ""
