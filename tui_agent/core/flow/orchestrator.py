"""One request, start to end: decide (:mod:`decide`: reuse, make, ask or refuse) -> run ->
respond, or make a new tool (:mod:`synthesis`) and run that.

A found tool whose result does not agree with the request's answer worked out apart falls
through to synthesis (no retry loop on the wrong tool). Every request has its own id, so two at
once stay apart in events and accounting; a request is an ordinary coroutine, cancelled like
one. Whatever happens inside, a request ends with exactly one final event (answer, question or
failure), whose message names the stage that failed in one line. Whether a tool may run, and
may read a file, is a person's yes (:mod:`consent`)."""

from __future__ import annotations

import asyncio
import logging
import secrets

from tui_agent.core.bus import EventBus
from tui_agent.core.events import (
    Answer,
    FollowUpRewritten,
    QueryReceived,
    QuestionAsked,
    RepairOffered,
    RequestFailed,
    ToolChosen,
)
from tui_agent.core.flow.answering import Answering
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.composing import Composer
from tui_agent.core.flow.consent import Consent
from tui_agent.core.flow.decide import Decider
from tui_agent.core.flow.decision import Decision, Outcome, Request, one_line
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.followup import standalone
from tui_agent.core.flow.grounding import Grounder, Grounding, Kind, anchored
from tui_agent.core.flow.inputs import files_named, samples
from tui_agent.core.flow.kinds import CallState, Choice, Ending, Route
from tui_agent.core.flow.planning import Planner
from tui_agent.core.flow.responder import Responder
from tui_agent.core.flow.session import Exchange, Session
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.computed import Anchor
from tui_agent.core.synthesis.engine import SynthesisEngine

log = logging.getLogger(__name__)


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
        self.grounder = grounder = Grounder(llm, sandbox)
        self.decider = Decider(grounder, registry, self.executor, engine.settings, bus)
        self.responder = Responder(llm, bus, phrase_plain=engine.settings.phrase_answers)
        self.consent = Consent(registry, bus, engine.settings.approve_new_tools, self.executor.allowed_paths)
        self.answering = Answering(registry, self.executor, self.consent, self.responder, bus)
        self.composer = Composer(Planner(llm), grounder, registry, self.executor, sandbox, bus)
        self.repair_failures = False  # headless --repair: a tool that fails on a request is repaired

    def _finish(self, req: Request, outcome: Outcome) -> Outcome:
        """Publish the request's one final event (a second call is ignored)."""
        if req.ended:
            return outcome
        req.ended = True
        usage = self.llm.usage.get(outcome.request_id)
        if usage is not None:
            outcome.llm_calls, outcome.tokens = usage.calls, usage.tokens
        rid = outcome.request_id
        if outcome.kind == Ending.ANSWER:
            self.bus.publish(
                Answer(
                    text=outcome.text,
                    verified=outcome.verified,
                    tool=outcome.tool,
                    value=outcome.value,
                    request_id=rid,
                )
            )
        elif outcome.kind == Ending.QUESTION:
            self.bus.publish(QuestionAsked(text=outcome.text, request_id=rid))
        else:
            self.bus.publish(RequestFailed(reason=outcome.text, request_id=rid))
        return outcome

    async def handle(
        self, request: str, *, request_id: str | None = None, session: Session | None = None
    ) -> Outcome:
        """One request to its one final event. With a ``session``, a request that follows up on
        its recent exchanges is first rewritten to stand alone (the rewrite is published), and an
        answer becomes the session's newest exchange."""
        req = Request(request_id or secrets.token_hex(4), request)
        self.bus.publish(QueryReceived(text=request, request_id=req.rid))
        try:
            if session is not None and session.recent():
                req.at("reading the request in context")
                req.text = await standalone(self.llm, request, session.recent(), request_id=req.rid)
                if req.text != request:
                    self.bus.publish(
                        FollowUpRewritten(original=request, rewritten=req.text, request_id=req.rid)
                    )
            outcome = self._finish(req, await self._handle(req))
            if session is not None and outcome.kind == Ending.ANSWER:
                session.add(Exchange(req.text, outcome.text, outcome.value))
            return outcome
        except asyncio.CancelledError:
            self._finish(req, Outcome(req.rid, Ending.FAILED, "cancelled", Route.FAILED))
            raise
        except LLMError as exc:
            text = f"{req.stage}: the model is not available: {exc}"
            return self._finish(req, Outcome(req.rid, Ending.FAILED, text, Route.FAILED))
        except Exception as exc:
            log.exception("request %s failed while %s", req.rid, req.stage)
            text = f"{req.stage} failed: {one_line(exc)}"
            return self._finish(req, Outcome(req.rid, Ending.FAILED, text, Route.FAILED))

    async def decide(self, request: str, *, request_id: str = "") -> Decision:
        return await self.decider.decide(request, request_id=request_id)

    async def _handle(self, req: Request) -> Outcome:
        rid, request = req.rid, req.text
        if not request.strip():
            return Outcome(
                rid,
                Ending.QUESTION,
                "What would you like me to work out? The request was empty.",
                Route.FAILED,
            )
        named = files_named(request, self.executor.input_limit_mb, self.executor.allowed_paths)
        refused = named.refused or await self.consent.paths_refused(named.outside, "any tool")
        if refused:
            return Outcome(rid, Ending.FAILED, refused, Route.DECLINED)
        decision = await self.decider.decide(request, request_id=rid, on_stage=req.at)
        tried = {p.tool for p in decision.checked}
        grounding = decision.grounding
        if decision.decision == Choice.REFUSE:
            text = (
                f"{decision.tool} was not run: {decision.reason}"
                if decision.tool
                else f"I cannot answer this here: {decision.reason}."
            )
            return Outcome(rid, Ending.FAILED, text, Route.DECLINED, decision.tool)
        if decision.decision == Choice.ASK:
            question = decision.prepared.message if decision.prepared is not None else decision.reason
            return Outcome(
                rid,
                Ending.QUESTION,
                question,
                Route.REUSED if decision.tool else Route.DECLINED,
                decision.tool,
            )
        if decision.decision == Choice.REUSE and decision.tool is not None and decision.prepared is not None:
            self.bus.publish(
                ToolChosen(name=decision.tool, score=decision.score, reused=True, request_id=rid)
            )
            reused = await self.answering.run(
                req, decision.tool, Route.REUSED, prepared=decision.prepared, grounding=grounding
            )
            if isinstance(reused, Outcome):
                return reused
            return await self._after_failure(req, decision.tool, reused)
        notes = [f"{p.tool} did not fit ({p.message})" for p in decision.checked]
        if not req.step:
            planned = await self.composer.answer(req, decision, self._handle)
            if isinstance(planned, Outcome):
                planned.notes = notes
                return planned
            notes.append(planned)
            log.info("request %s: %s", rid, planned)
        req.stage = "making a new tool"
        shown = await asyncio.to_thread(samples, named)  # file reads stay off the event loop
        computed = grounding.value if grounding is not None and grounding.kind == Kind.VALUE else None
        anchor = Anchor(computed, again=lambda: self.grounder.second(request, rid))
        made = await self.engine.synthesize(request, request_id=rid, samples=shown, anchor=anchor)
        grounding = anchored(grounding, anchor)
        if made.existing is not None and made.spec is not None:
            if made.existing not in tried and await self._serves(req, made.existing, grounding):
                self.bus.publish(ToolChosen(name=made.existing, score=1.0, reused=True, request_id=rid))
                result = await self.answering.run(req, made.existing, Route.REUSED, grounding=grounding)
                if isinstance(result, Outcome):
                    result.notes = notes
                    return result
                text = f"{made.existing} could not answer: {result.message}"
                return Outcome(rid, Ending.FAILED, text, Route.FAILED, made.existing, notes=notes)
            req.stage = "making a new tool"
            made = await self.engine.synthesize(
                request, request_id=rid, samples=shown, spec=made.spec, anchor=anchor
            )
            grounding = anchored(grounding, anchor)
        if not made.ok or made.record is None:
            text = (
                "I could not make a verified tool for this request, so I have no answer I can stand "
                f"behind. ({made.reason})"
            )
            return Outcome(rid, Ending.FAILED, text, Route.FAILED, attempts=made.attempts, notes=notes)
        self.bus.publish(ToolChosen(name=made.record.name, score=1.0, reused=False, request_id=rid))
        result = await self.answering.run(
            req, made.record.name, Route.SYNTHESISED, made.attempts, grounding=grounding
        )
        if isinstance(result, Outcome):
            result.notes = notes
            return result
        text = f"The new tool {made.record.name} could not answer: {result.message}"
        return Outcome(
            rid, Ending.FAILED, text, Route.FAILED, made.record.name, attempts=made.attempts, notes=notes
        )

    async def _serves(self, req: Request, name: str, grounding: Grounding | None) -> bool:
        """The spec drafted for the request names a tool we have: is it the request's tool,
        held to the same checks and the same computed answer as any candidate?"""
        req.stage = f"trying the existing {name}"
        tool = await asyncio.to_thread(self.registry.get, name)
        grounding = grounding or Grounding(Kind.NONE)
        held = await self.decider.held_to(tool, req.text, grounding, req.rid)
        return held.kind in (CallState.READY, CallState.VALUE)

    async def _after_failure(self, req: Request, name: str, failed: Execution) -> Outcome:
        """A reused tool failed on the request's own arguments: repair it with that input as a
        new case (``repair_failures``, or a person's yes), and answer again; else offer it."""
        rid = req.rid
        text = f"{name} could not answer: {failed.message}"
        if failed.kind != CallState.ERROR:
            return Outcome(rid, Ending.FAILED, text, Route.FAILED, name)
        if not self.repair_failures:
            self.bus.publish(
                RepairOffered(
                    tool=name, args=failed.args, request=req.text, error=failed.message, request_id=rid
                )
            )
            hint = " (ask again with --repair, or press r in the dashboard, to repair it with this input as a new test)"
            return Outcome(rid, Ending.FAILED, text + hint, Route.FAILED, name)
        req.stage = f"repairing {name}"
        repaired = await self.engine.repair_failure(name, failed.args, request_id=rid)
        if repaired.status != "repaired":
            return Outcome(rid, Ending.FAILED, f"{text}; {repaired.message}", Route.FAILED, name)
        # the same call, on the new version (which needs a yes like any new version)
        again = await self.answering.run(
            req, name, Route.REUSED, prepared=Execution(CallState.READY, name, failed.args)
        )
        if isinstance(again, Outcome):
            again.notes.append(repaired.message)
            return again
        return Outcome(
            rid,
            Ending.FAILED,
            f"{name} was repaired but still could not answer: {again.message}",
            Route.FAILED,
            name,
        )
