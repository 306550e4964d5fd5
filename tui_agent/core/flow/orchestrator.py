"""One request, start to end: search -> reuse or synthesise -> execute -> respond.

A found tool that the model says cannot serve the request falls through to synthesis (no retry
loop on the wrong tool). Every request has its own id, so two at once stay apart in events and
accounting; a request is an ordinary coroutine, cancelled like one.

With ``approve_new_tools = ask`` a tool nobody has approved runs only after the ``approver``
(the dashboard's modal, the CLI's ``--yes``) says yes. Without an approver nothing unapproved
runs: a declined or unasked tool stays in the library, unapproved, and the request says why."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.events import (
    Answer,
    ApprovalDecided,
    ApprovalRequested,
    QueryReceived,
    QuestionAsked,
    RequestFailed,
    SearchResults,
    ToolChosen,
)
from tui_agent.core.flow.executor import Execution, Executor
from tui_agent.core.flow.responder import Responder
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.engine import SynthesisEngine
from tui_agent.core.tool.record import Tool

Approver = Callable[[Tool], Awaitable[bool]]


@dataclass
class Outcome:
    """kind: answer | question | failed. ``path``: reused | synthesised | failed | declined."""

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
        self.approver: Approver | None = None
        self.yes = False  # headless --yes: approved by the flag, nobody asked

    async def _approved(self, tool: Tool, rid: str) -> str:
        """ "" when the tool may run, else why not (one line)."""
        if tool.record.approved:
            return ""
        name = tool.name
        if self.engine.settings.approve_new_tools == "auto":
            by, yes = "auto", True
        elif self.yes:
            by, yes = "flag", True
        elif self.approver is None:
            by, yes = "nobody", False
        else:
            self.bus.publish(ApprovalRequested(name=name, version=tool.record.version, request_id=rid))
            by, yes = "user", await self.approver(tool)
        self.bus.publish(ApprovalDecided(name=name, approved=yes, by=by, request_id=rid))
        if yes:
            await asyncio.to_thread(self.registry.approve, name)
            return ""
        if by == "nobody":
            return (
                f"{name} is new and has not been approved to run: review it (selfeng-tui tools show "
                f"{name}), then ask again with --yes"
            )
        return f"You declined to run {name}; it stays in the library, unapproved, and was not run."

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
        refused = await self._approved(tool, rid)
        if refused:
            return Outcome(rid, "failed", refused, "declined", tool.name, attempts=attempts)
        run = await self.executor.run(tool, request, request_id=rid, made_for_it=path == "synthesised")
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
