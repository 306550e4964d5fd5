"""One request, start to end: search -> reuse or synthesise -> execute -> respond.

A found tool that the model says cannot serve the request falls through to synthesis (no retry
loop on the wrong tool). Every request has its own id, so two at once stay apart in events and
accounting; a request is an ordinary coroutine, cancelled like one."""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass, field
from typing import Any

from tui_agent.core.events import (
    Answer,
    EventBus,
    QueryReceived,
    QuestionAsked,
    RequestFailed,
    SearchResults,
    ToolChosen,
)
from tui_agent.core.executor import Execution, Executor
from tui_agent.core.llm import LLMClient, LLMError
from tui_agent.core.registry import Registry
from tui_agent.core.responder import Responder
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis import SynthesisEngine


@dataclass
class Outcome:
    """kind: answer | question | failed. ``path``: reused | synthesised | failed."""

    request_id: str
    kind: str
    text: str
    path: str
    tool: str | None = None
    value: Any = None
    verified: bool = False
    llm_calls: int = 0
    tokens: int = 0
    attempts: int = 0
    notes: list[str] = field(default_factory=list)


class Orchestrator:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, engine: SynthesisEngine, bus: EventBus
    ) -> None:
        self.llm = llm
        self.registry = registry
        self.engine = engine
        self.bus = bus
        self.executor = Executor(llm, sandbox, registry, bus)
        self.responder = Responder(llm, bus)

    def _finish(self, outcome: Outcome) -> Outcome:
        usage = self.llm.usage.get(outcome.request_id)
        if usage is not None:
            outcome.llm_calls, outcome.tokens = usage.calls, usage.tokens
        rid = outcome.request_id
        if outcome.kind == "answer":
            self.bus.publish(
                Answer(
                    text=outcome.text,
                    verified=outcome.verified,
                    tool=outcome.tool,
                    value=outcome.value,
                    request_id=rid,
                )
            )
        elif outcome.kind == "question":
            self.bus.publish(QuestionAsked(text=outcome.text, request_id=rid))
        else:
            self.bus.publish(RequestFailed(reason=outcome.text, request_id=rid))
        return outcome

    async def _execute(
        self, tool_name: str, request: str, rid: str, path: str, attempts: int = 0
    ) -> Outcome | Execution:
        tool = await asyncio.to_thread(self.registry.get, tool_name)
        run = await self.executor.run(tool, request, request_id=rid)
        if run.kind == "value":
            text = await self.responder.answer(request, run.tool, run.args, run.value, request_id=rid)
            return Outcome(rid, "answer", text, path, run.tool, run.value, verified=True, attempts=attempts)
        if run.kind == "question":
            return Outcome(rid, "question", run.message, path, run.tool, attempts=attempts)
        return run

    async def handle(self, request: str, *, request_id: str | None = None) -> Outcome:
        rid = request_id or secrets.token_hex(4)
        self.bus.publish(QueryReceived(text=request, request_id=rid))
        try:
            found = await asyncio.to_thread(self.registry.search, request)
            self.bus.publish(
                SearchResults(
                    query=request,
                    candidates=tuple(c.to_dict() for c in found.candidates),
                    threshold=found.threshold,
                    request_id=rid,
                )
            )
            candidate = found.best or found.plausible
            notes: list[str] = []
            if candidate is not None:
                self.bus.publish(
                    ToolChosen(name=candidate.name, score=candidate.score, reused=True, request_id=rid)
                )
                reused = await self._execute(candidate.name, request, rid, "reused")
                if isinstance(reused, Outcome):
                    return self._finish(reused)
                notes.append(f"{candidate.name} did not fit ({reused.message}); writing a new tool")
            made = await self.engine.synthesize(request, request_id=rid)
            if not made.ok or made.record is None:
                text = f"I could not make a verified tool for this request, so I have no answer I can stand behind. ({made.reason})"
                return self._finish(
                    Outcome(rid, "failed", text, "failed", attempts=made.attempts, notes=notes)
                )
            self.bus.publish(ToolChosen(name=made.record.name, score=1.0, reused=False, request_id=rid))
            result = await self._execute(made.record.name, request, rid, "synthesised", made.attempts)
            if isinstance(result, Outcome):
                result.notes = notes
                return self._finish(result)
            text = f"The new tool {made.record.name} could not answer: {result.message}"
            return self._finish(
                Outcome(rid, "failed", text, "failed", made.record.name, attempts=made.attempts, notes=notes)
            )
        except LLMError as exc:
            return self._finish(Outcome(rid, "failed", f"the model is not available: {exc}", "failed"))
