"""Result -> one or two plain sentences, streamed. Grounded: a value is stated only when a verified
tool computed it, and stated faithfully. The model's phrasing is kept only when it carries the
result unchanged; otherwise the answer is built from the result itself."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import AnswerChunk
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError

NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?(?:[eE][-+]?\d+)?")


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


def carries(reply: str, value: Any) -> bool:
    """Does the reply state this exact value?"""
    if isinstance(value, bool):
        return False  # yes/no phrasing is too easy to garble ("97 is not a prime"): never trusted
    if isinstance(value, int | float):
        for token in NUMBER.findall(reply):
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


def template(tool: str, args: dict[str, Any], value: Any) -> str:
    shown = ", ".join(f"{k}={json.dumps(v, ensure_ascii=False)}" for k, v in args.items())
    if isinstance(value, bool):
        return f"{'Yes' if value else 'No'}: {tool}({shown}) is {value}."
    return f"The answer is {format_value(value)} (computed by {tool}({shown}))."


class Responder:
    def __init__(self, llm: LLMClient, bus: EventBus | None = None) -> None:
        self.llm = llm
        self.bus = bus

    def _chunk(self, text: str, request_id: str) -> None:
        if self.bus is not None:
            self.bus.publish(AnswerChunk(text=text, request_id=request_id))

    async def answer(
        self, request: str, tool: str, args: dict[str, Any], value: Any, *, request_id: str = ""
    ) -> str:
        if isinstance(value, bool):
            text = template(tool, args, value)
            self._chunk(text, request_id)
            return text
        pieces: list[str] = []
        try:
            async for piece in self.llm.stream(
                prompts.answer_messages(request, tool, args, value),
                purpose="answer",
                request_id=request_id,
                max_tokens=120,
            ):
                pieces.append(piece)
                self._chunk(piece, request_id)
        except LLMError:
            pieces = []
        reply = "".join(pieces).strip()
        if reply and carries(reply, value):
            return reply
        fallback = template(tool, args, value)
        self._chunk("\n" + fallback if reply else fallback, request_id)
        return fallback
