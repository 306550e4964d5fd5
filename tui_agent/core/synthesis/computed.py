"""The request's own answer, worked out apart (:mod:`flow.grounding`), in the spec of its new tool.

A spec's worked example for the request's own values is the model's arithmetic, and a small model
miscomputes (a compound interest balance, an average): right code was rejected for failing it.
When the request states no answer, the example takes the value a program computed for the same
request instead, so the tests hold what Python worked out, and it is an anchor: implementations
written from the spec share the spec's reading, so their agreement cannot overrule what the
request itself works out to (a spec that reads "what percentage of 160 is 40" as "160% of 40"
would have all of them give 64).

One program is one draw of a small model, and it can stop a step short or misread the request.
When the spec's worked example for the request's values disagrees with it, that is a second
opinion, so a second program (:class:`Anchor`) is drawn before either is taken. Only when it
sides with the example does the example stand (the first program was wrong, and the example is
the anchor); otherwise the first program's value stands, as with one program."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from tui_agent.core.request.values import grounded
from tui_agent.core.tool.cases import agrees
from tui_agent.core.tool.spec import Example, ToolSpec

Recompute = Callable[[], Awaitable[Any]]  # another program's value for the request; None: none


@dataclass
class Anchor:
    """What the request works out to, computed apart (``value``; None when unknown), and how to
    draw one more, independent program for it (asked at most once per request). ``changed``:
    a second program sided with the spec's example, which is the value now."""

    value: Any = None
    again: Recompute | None = None
    asked: bool = False
    changed: bool = False

    async def settle(self, stated: Any) -> str:
        """The spec says the request's values give ``stated``, the program said ``value``: what
        a second program changed, for the person ("" when nothing did)."""
        if self.value is None or self.again is None or self.asked or agrees(stated, self.value):
            return ""
        self.asked = True
        second = await self.again()
        if second is None or not agrees(second, stated):
            # confirmed, no evidence, or a third value: with no two sources agreeing the first
            # stands, and a spec nobody can confirm is not taken (a spec a step short, as every
            # program was otherwise, answered 25 for "the percentage change from 40 to 50,
            # divided by 5, plus 1")
            return ""
        first, self.value, self.changed = self.value, stated, True
        return f"a second program gives {second!r}, as the spec's example does, not {first!r}"


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
