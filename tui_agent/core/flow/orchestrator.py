"""One request, start to end: search -> reuse or synthesise -> execute -> respond.

A found tool that the model says cannot serve the request falls through to synthesis (no retry
loop on the wrong tool). Every request has its own id, so two at once stay apart in events and
accounting; a request is an ordinary coroutine, cancelled like one. Whatever happens inside,
a request ends with exactly one final event (answer, question or failure), whose message names
the stage that failed in one line.

With ``approve_new_tools = ask`` a tool nobody has approved runs only after the ``approver``
(the dashboard's modal, the CLI's ``--yes``) says yes. Without an approver nothing unapproved
runs: a declined or unasked tool stays in the library, unapproved, and the request says why."""

from __future__ import annotations

import asyncio
import logging
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

log = logging.getLogger(__name__)

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


@dataclass
class _Request:
    """One request in flight: where it is (for a failure message) and whether it has ended."""

    rid: str
    text: str
    stage: str = "searching the library"
    ended: bool = False


def one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


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

    def _finish(self, req: _Request, outcome: Outcome) -> Outcome:
        """Publish the request's one final event (a second call is ignored)."""
        if req.ended:
            return outcome
        req.ended = True
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

    async def handle(self, request: str, *, request_id: str | None = None) -> Outcome:
        req = _Request(request_id or secrets.token_hex(4), request)
        self.bus.publish(QueryReceived(text=request, request_id=req.rid))
        try:
            return self._finish(req, await self._handle(req))
        except asyncio.CancelledError:
            self._finish(req, Outcome(req.rid, "failed", "cancelled", "failed"))
            raise
        except LLMError as exc:
            text = f"{req.stage}: the model is not available: {exc}"
            return self._finish(req, Outcome(req.rid, "failed", text, "failed"))
        except Exception as exc:
            log.exception("request %s failed while %s", req.rid, req.stage)
            text = f"{req.stage} failed: {one_line(exc)}"
            return self._finish(req, Outcome(req.rid, "failed", text, "failed"))

    async def _handle(self, req: _Request) -> Outcome:
        rid, request = req.rid, req.text
        if not request.strip():
            return Outcome(
                rid, "question", "What would you like me to work out? The request was empty.", "failed"
            )
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
        tried: set[str] = set()
        if candidate is not None:
            tried.add(candidate.name)
            self.bus.publish(
                ToolChosen(name=candidate.name, score=candidate.score, reused=True, request_id=rid)
            )
            reused = await self._execute(req, candidate.name, "reused")
            if isinstance(reused, Outcome):
                return reused
            notes.append(f"{candidate.name} did not fit ({reused.message}); writing a new tool")

        async def serves(name: str) -> bool:
            """The drafted spec names a tool we have: does that tool answer this request?"""
            if name in tried:
                return False
            tried.add(name)
            req.stage = f"trying the existing {name}"
            tool = await asyncio.to_thread(self.registry.get, name)
            prepared = await self.executor.prepare(tool, request, request_id=rid)
            return prepared.kind in ("ready", "question")

        req.stage = "making a new tool"
        made = await self.engine.synthesize(request, request_id=rid, existing_serves=serves)
        if made.existing is not None:
            self.bus.publish(ToolChosen(name=made.existing, score=1.0, reused=True, request_id=rid))
            result = await self._execute(req, made.existing, "reused")
            if isinstance(result, Outcome):
                result.notes = notes
                return result
            text = f"{made.existing} could not answer: {result.message}"
            return Outcome(rid, "failed", text, "failed", made.existing, notes=notes)
        if not made.ok or made.record is None:
            text = (
                "I could not make a verified tool for this request, so I have no answer I can stand "
                f"behind. ({made.reason})"
            )
            return Outcome(rid, "failed", text, "failed", attempts=made.attempts, notes=notes)
        self.bus.publish(ToolChosen(name=made.record.name, score=1.0, reused=False, request_id=rid))
        result = await self._execute(req, made.record.name, "synthesised", made.attempts)
        if isinstance(result, Outcome):
            result.notes = notes
            return result
        text = f"The new tool {made.record.name} could not answer: {result.message}"
        return Outcome(rid, "failed", text, "failed", made.record.name, attempts=made.attempts, notes=notes)

    async def _execute(
        self, req: _Request, tool_name: str, path: str, attempts: int = 0
    ) -> Outcome | Execution:
        rid, request = req.rid, req.text
        req.stage = f"running {tool_name}"
        tool = await asyncio.to_thread(self.registry.get, tool_name)
        refused = await self._approved(tool, rid)
        if refused:
            return Outcome(rid, "failed", refused, "declined", tool.name, attempts=attempts)
        run = await self.executor.run(tool, request, request_id=rid, made_for_it=path == "synthesised")
        if run.kind == "value":
            req.stage = "wording the answer"
            text = await self.responder.answer(request, run.tool, run.args, run.value, request_id=rid)
            return Outcome(rid, "answer", text, path, run.tool, run.value, verified=True, attempts=attempts)
        if run.kind == "question":
            return Outcome(rid, "question", run.message, path, run.tool, attempts=attempts)
        return run
