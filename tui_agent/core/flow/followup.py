"""A follow-up made to stand alone: "and 26.2?" after "Convert 10 miles to kilometers" becomes
"Convert 26.2 miles to kilometers", before anything else reads it. One model call, only when the
session has exchanges; a request that already stands alone comes back unchanged, and a reply
that is no usable rewrite (empty, far too long, several lines) leaves the request as it was."""

from __future__ import annotations

from tui_agent.core.flow.session import Exchange
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError

MAX_TOKENS = 80


def _cleaned(reply: str) -> str:
    text = reply.strip().strip("`").strip()
    for prefix in ("Request:", "Rewritten:", "Rewritten request:"):
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


async def standalone(llm: LLMClient, request: str, recent: list[Exchange], *, request_id: str = "") -> str:
    """``request`` rewritten to stand alone from ``recent`` (unchanged without exchanges)."""
    if not recent:
        return request
    try:
        reply = await llm.complete(
            prompts.followup_messages(request, [(e.request, e.answer) for e in recent]),
            purpose="follow-up",
            request_id=request_id,
            temperature=0.0,
            max_tokens=MAX_TOKENS,
            stop=["\n"],
        )
    except LLMError:
        return request
    text = _cleaned(reply)
    if not text or "\n" in text or len(text) > 4 * len(request) + 200:
        return request
    return text
