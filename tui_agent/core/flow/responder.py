"""Result -> the answer. Grounded: a value is stated only when a verified tool computed it, stated
faithfully, and the words say what the tool computed, in the tool's own terms.

A plain value (a number, yes/no, a short text) is answered from a template at once: it is faster
than asking the model and says exactly what was computed. Other values may be phrased by the
model, which is kept only when it carries the result unchanged and claims no operation the tool
does not do ("reversed and uppercased" from a tool that only reverses); otherwise the template
wins. ``phrase_answers`` lets the model phrase plain values too."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import AnswerChunk
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.request.patterns import NUMBER_RE, STEM
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec

WORD = re.compile(r"[a-zA-Z]{4,}")  # a word long enough to claim something
# Words any answer may use without the tool's description saying them.
PLAIN_WORDS = frozenset(
    [
        "answer",
        "result",
        "value",
        "values",
        "computed",
        "computes",
        "compute",
        "gives",
        "given",
        "returns",
        "returned",
        "equals",
        "equal",
        "which",
        "that",
        "this",
        "there",
        "their",
        "about",
        "approximately",
        "exactly",
        "rounded",
        "input",
        "inputs",
        "output",
        "function",
        "tool",
        "using",
        "used",
        "with",
        "from",
        "into",
        "when",
        "what",
        "your",
        "here",
        "have",
        "has",
        "been",
        "being",
        "also",
        "number",
        "numbers",
        "text",
        "string",
        "strings",
        "list",
        "true",
        "false",
        "yes",
    ]
)


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return f"{value:.10g}"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def is_plain(value: Any) -> bool:
    return isinstance(value, bool | int | float) or (isinstance(value, str) and len(value) <= 200)


def carries(reply: str, value: Any) -> bool:
    """Does the reply state this exact value?"""
    if isinstance(value, bool):
        return False  # yes/no phrasing is too easy to garble ("97 is not a prime"): never trusted
    if isinstance(value, int | float):
        for token in NUMBER_RE.findall(reply):
            try:
                number = float(token.replace(",", ""))
            except ValueError:
                continue
            if math.isclose(number, float(value), rel_tol=1e-9, abs_tol=1e-9):
                return True
        return False
    if isinstance(value, str):
        return value in reply
    return format_value(value) in reply or all(
        format_value(v) in reply for v in (value if isinstance(value, list) else [value])
    )


def _stems(text: str) -> set[str]:
    return {w.lower()[:STEM] for w in WORD.findall(text)}


def unsupported_claims(reply: str, spec: ToolSpec, args: dict[str, Any], value: Any) -> list[str]:
    """Words of the reply that neither the tool's own description nor the call's values support:
    a claim of work the tool did not do."""
    support = _stems(
        " ".join(
            [
                spec.function_name.replace("_", " "),
                spec.description,
                spec.docstring,
                *(f"{p.name.replace('_', ' ')} {p.description}" for p in spec.parameters),
                json.dumps(args, ensure_ascii=False),
                format_value(value),
            ]
        )
    ) | {w[:STEM] for w in PLAIN_WORDS}
    return [w for w in WORD.findall(reply) if w.lower()[:STEM] not in support]


def call_text(name: str, args: dict[str, Any]) -> str:
    shown = ", ".join(
        f"{k}={format_value(v) if isinstance(v, int | float) and not isinstance(v, bool) else json.dumps(v, ensure_ascii=False)}"
        for k, v in args.items()
    )
    return f"{name}({shown})"


def template(spec: ToolSpec, args: dict[str, Any], value: Any) -> str:
    """The answer in the tool's terms: the value, the call that computed it, what it computes."""
    call = call_text(spec.function_name, args)
    what = spec.description.strip().rstrip(".")
    what = what[:1].lower() + what[1:]
    if isinstance(value, bool):
        return f"{'Yes' if value else 'No'}: {call} is {value} ({what})."
    return f"The answer is {format_value(value)}, computed by {call}: {what}."


class Responder:
    def __init__(self, llm: LLMClient, bus: EventBus | None = None, *, phrase_plain: bool = False) -> None:
        self.llm = llm
        self.bus = bus
        self.phrase_plain = phrase_plain

    def _chunk(self, text: str, request_id: str) -> None:
        if self.bus is not None:
            self.bus.publish(AnswerChunk(text=text, request_id=request_id))

    async def answer(
        self, request: str, tool: Tool, args: dict[str, Any], value: Any, *, request_id: str = ""
    ) -> str:
        spec = ToolSpec.model_validate(tool.record.spec)
        fallback = template(spec, args, value)
        if isinstance(value, bool) or (is_plain(value) and not self.phrase_plain):
            self._chunk(fallback, request_id)
            return fallback
        pieces: list[str] = []
        try:
            async for piece in self.llm.stream(
                prompts.answer_messages(request, spec.function_name, args, value),
                purpose="answer",
                request_id=request_id,
                max_tokens=120,
            ):
                pieces.append(piece)
                self._chunk(piece, request_id)
        except LLMError:
            pieces = []
        reply = "".join(pieces).strip()
        if reply and carries(reply, value) and not unsupported_claims(reply, spec, args, value):
            return reply
        self._chunk("\n" + fallback if reply else fallback, request_id)
        return fallback
