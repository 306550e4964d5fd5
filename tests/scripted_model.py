"""A stand-in model that answers by step: each synthesis step has its own system prompt, so the
router picks that step's next scripted reply. Order across steps does not matter, which keeps
tests of concurrent requests deterministic."""

from __future__ import annotations

import json
from collections import defaultdict, deque
from typing import Any

from tests.fake_llm import FakeLLM, Reply
from tui_agent.core.llm import prompts

STEPS = {
    "spec": prompts.SPEC_SYSTEM,
    "tests": prompts.TESTS_SYSTEM,
    "implementation": prompts.IMPLEMENT_SYSTEM,
    "independent": prompts.INDEPENDENT_SYSTEM,
    "args": prompts.ARGS_SYSTEM,
    "ground": prompts.GROUND_SYSTEM,
    "followup": prompts.FOLLOWUP_SYSTEM,
    "plan": prompts.PLAN_SYSTEM,
    "answer": prompts.ANSWER_SYSTEM,
}


def step_of(body: dict[str, Any]) -> str:
    text = "\n".join(str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "system")
    for step, system in STEPS.items():
        if system in text:
            return step
    return "other"


class ScriptedModel:
    def __init__(self) -> None:
        self.replies: dict[str, deque[Reply | str]] = defaultdict(deque)
        self.server = FakeLLM(router=self.route)
        self.asked: list[str] = []
        self.prompts: list[tuple[str, str]] = []  # (step, what the user message said)
        self.bodies: list[tuple[str, dict[str, Any]]] = []  # (step, the request as sent)

    def route(self, body: dict[str, Any]) -> Reply | str:
        step = step_of(body)
        self.asked.append(step)
        said = [str(m.get("content", "")) for m in body.get("messages", []) if m.get("role") == "user"]
        self.prompts.append((step, said[-1] if said else ""))
        self.bodies.append((step, body))
        if step == "independent" and not self.replies[step]:
            step = "implementation"  # a test that scripts one queue of code for both
        queue = self.replies[step]
        if not queue:
            return Reply(status=500, content=f"scripted model: no reply left for step {step!r}")
        return queue.popleft()

    def on(self, step: str, *replies: Reply | str | dict[str, Any]) -> ScriptedModel:
        for reply in replies:
            self.replies[step].append(json.dumps(reply) if isinstance(reply, dict) else reply)
        return self

    def code(self, step: str, source: str) -> ScriptedModel:
        return self.on(step, Reply(content=f"```python\n{source}```", chunk_size=12))

    def __enter__(self) -> ScriptedModel:
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()

    @property
    def base_url(self) -> str:
        return self.server.base_url


def program(lines: str) -> str:
    """A reply that holds a program in a code block, as the model writes one."""
    return f"```python\n{lines}\n```"
