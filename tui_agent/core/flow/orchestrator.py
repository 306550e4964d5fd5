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
from pathlib import Path

from tui_agent.core.bus import EventBus
from tui_agent.core.events import (
    Answer,
    ApprovalDecided,
    ApprovalRequested,
    QueryReceived,
    QuestionAsked,
    RepairOffered,
    RequestFailed,
    ToolChosen,
)
from tui_agent.core.flow.decide import Decider
from tui_agent.core.flow.decision import Decision, Outcome, Request, one_line
from tui_agent.core.flow.executor import Execution, Executor, best_effort
from tui_agent.core.flow.fit import RequestSignature
from tui_agent.core.flow.inputs import files_named, samples
from tui_agent.core.flow.responder import Responder
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.engine import SynthesisEngine
from tui_agent.core.synthesis.repair import repair_failure
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec

log = logging.getLogger(__name__)

Approver = Callable[[Tool], Awaitable[bool]]


class Orchestrator:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, engine: SynthesisEngine, bus: EventBus
    ) -> None:
        self.llm = llm
        self.registry = registry
        self.engine = engine
        self.bus = bus
        self.executor = Executor(llm, sandbox, registry, bus)
        self.executor.input_limit_mb = engine.settings.input_file_mb
        self.decider = Decider(llm, registry, self.executor, engine.settings, bus)
        self.responder = Responder(llm, bus, phrase_plain=engine.settings.phrase_answers)
        self.approver: Approver | None = None
        self.yes = False  # headless --yes: approved by the flag, nobody asked
        self.repair_failures = False  # headless --repair: a tool that fails on a request is repaired
        self.path_approver: Callable[[Path], Awaitable[bool]] | None = None  # the dashboard asks

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

    def _finish(self, req: Request, outcome: Outcome) -> Outcome:
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
        req = Request(request_id or secrets.token_hex(4), request)
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

    async def decide(self, request: str, *, request_id: str = "") -> Decision:
        return await self.decider.decide(request, request_id=request_id)

    async def _handle(self, req: Request) -> Outcome:
        rid, request = req.rid, req.text
        if not request.strip():
            return Outcome(
                rid, "question", "What would you like me to work out? The request was empty.", "failed"
            )
        named = files_named(request, self.executor.input_limit_mb, self.executor.allowed_paths)
        refused = named.refused or await self._outside_refused(named.outside, "any tool")
        if refused:
            return Outcome(rid, "failed", refused, "declined")
        decision = await self.decider.decide(request, request_id=rid, on_stage=req.at)
        tried = {p.tool for p in decision.checked}
        if decision.decision == "refuse":
            return Outcome(
                rid, "failed", f"{decision.tool} was not run: {decision.reason}", "declined", decision.tool
            )
        if decision.decision == "ask" and decision.prepared is not None:
            return Outcome(rid, "question", decision.prepared.message, "reused", decision.tool)
        if decision.decision == "reuse" and decision.tool is not None and decision.prepared is not None:
            self.bus.publish(
                ToolChosen(name=decision.tool, score=decision.score, reused=True, request_id=rid)
            )
            reused = await self._execute(req, decision.tool, "reused", prepared=decision.prepared)
            if isinstance(reused, Outcome):
                return reused
            return await self._after_failure(req, decision.tool, reused)
        notes = [f"{p.tool} did not fit ({p.message})" for p in decision.checked]

        async def serves(spec: ToolSpec) -> bool:
            """The drafted spec names a tool we have: does that tool answer this request, judged
            against the drafted spec as the draft?"""
            name = spec.function_name
            if name in tried:
                return False
            tried.add(name)
            req.stage = f"trying the existing {name}"
            tool = await asyncio.to_thread(self.registry.get, name)
            draft = RequestSignature(function_name=name, return_type=spec.return_type)
            prepared = await self.executor.prepare(tool, request, request_id=rid, draft=draft)
            return prepared.kind == "ready"

        req.stage = "making a new tool"
        shown = await asyncio.to_thread(samples, named)  # file reads stay off the event loop
        made = await self.engine.synthesize(request, request_id=rid, existing_serves=serves, samples=shown)
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

    async def _outside_refused(self, outside: list[Path], to: str) -> str:
        """ "" when every file outside the working directory may be read (allowed by a flag or a
        person's yes), else why not, in one line."""
        for path in outside:
            if path in self.executor.allowed_paths:
                continue
            if self.path_approver is not None and await self.path_approver(path):
                self.executor.allowed_paths.add(path)
                continue
            return f"{path} is outside the working directory: not given to {to} (allow it with --allow-path {path})"
        return ""

    async def _after_failure(self, req: Request, name: str, failed: Execution) -> Outcome:
        """A reused tool failed on the request's own arguments: repair it with that input as a
        new case (``repair_failures``, or a person's yes), and answer again; else offer it."""
        rid = req.rid
        text = f"{name} could not answer: {failed.message}"
        if failed.kind != "error":
            return Outcome(rid, "failed", text, "failed", name)
        if not self.repair_failures:
            self.bus.publish(
                RepairOffered(
                    tool=name, args=failed.args, request=req.text, error=failed.message, request_id=rid
                )
            )
            hint = " (ask again with --repair, or press r in the dashboard, to repair it with this input as a new test)"
            return Outcome(rid, "failed", text + hint, "failed", name)
        req.stage = f"repairing {name}"
        repaired = await repair_failure(self.engine, name, failed.args, request_id=rid)
        if repaired.status != "repaired":
            return Outcome(rid, "failed", f"{text}; {repaired.message}", "failed", name)
        # the same call, on the new version (which needs a yes like any new version)
        again = await self._execute(req, name, "reused", prepared=Execution("ready", name, failed.args))
        if isinstance(again, Outcome):
            again.notes.append(repaired.message)
            return again
        return Outcome(
            rid, "failed", f"{name} was repaired but still could not answer: {again.message}", "failed", name
        )

    async def _execute(
        self, req: Request, tool_name: str, path: str, attempts: int = 0, prepared: Execution | None = None
    ) -> Outcome | Execution:
        """Run the tool (prepared by the decision, or now) and word the answer."""
        rid, request = req.rid, req.text
        req.stage = f"running {tool_name}"
        tool = await asyncio.to_thread(self.registry.get, tool_name)
        refused = await self._approved(tool, rid)
        if refused:
            return Outcome(rid, "failed", refused, "declined", tool.name, attempts=attempts)
        if prepared is None:
            prepared = await self.executor.prepare(
                tool, request, request_id=rid, made_for_it=path == "synthesised"
            )
        if prepared.kind == "ready" and (outside := await self._outside_refused(prepared.outside, tool.name)):
            return Outcome(rid, "failed", outside, "declined", tool.name, attempts=attempts)
        if prepared.kind == "refused":
            return Outcome(
                rid, "failed", f"{tool.name} was not run: {prepared.message}", "declined", tool.name
            )
        run = (
            prepared
            if prepared.kind != "ready"
            else await self.executor.execute(tool, prepared, request_id=rid)
        )
        if run.kind == "value":
            req.stage = "wording the answer"
            text = await self.responder.answer(request, tool, run.args, run.value, request_id=rid)
            await best_effort(
                self.bus,
                f"learn this phrasing for {tool.name}",
                self.registry.learn_phrasing,
                tool.name,
                request,
                run.args,
            )
            await best_effort(
                self.bus, f"record the answer of {tool.name}", self.registry.record_answer, tool.name
            )
            return Outcome(rid, "answer", text, path, run.tool, run.value, verified=True, attempts=attempts)
        if run.kind == "question":
            return Outcome(rid, "question", run.message, path, run.tool, attempts=attempts)
        return run
