"""A tool run for a request and its answer worded: a person's yes first when nobody approved the
tool or a file is outside the working directory, the run (or the decision's own run), a value
held against the request's answer worked out apart, the answer, and its bookkeeping."""

from __future__ import annotations

import asyncio

from tui_agent.core.bus import EventBus
from tui_agent.core.flow.bookkeeping import best_effort
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.consent import Consent
from tui_agent.core.flow.decision import Outcome, Request
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.grounding import Grounding, Kind, agrees
from tui_agent.core.flow.kinds import CallState, Ending, Route
from tui_agent.core.flow.responder import Responder
from tui_agent.core.library.registry import Registry
from tui_agent.core.tool.record import Tool


def disagreeing(tool: Tool, run: Execution, grounding: Grounding | None) -> Execution | None:
    """A MISFIT when a value disagrees with the request's answer worked out apart: whatever the
    tool's own tests say, two computations of the request that disagree leave no answer to stand
    behind."""
    if run.kind != CallState.VALUE or grounding is None or grounding.kind != Kind.VALUE:
        return None
    if agrees(run.value, grounding.value):
        return None
    message = (
        f"{tool.name} gives {run.value!r} for {run.args}, and the request works out to "
        f"{grounding.value!r}: neither is stated as the answer"
    )
    return Execution(CallState.MISFIT, tool.name, run.args, message=message)


class Answering:
    def __init__(
        self, registry: Registry, executor: Executor, consent: Consent, responder: Responder, bus: EventBus
    ) -> None:
        self.registry = registry
        self.executor = executor
        self.consent = consent
        self.responder = responder
        self.bus = bus

    async def run(
        self,
        req: Request,
        tool_name: str,
        path: Route,
        attempts: int = 0,
        prepared: Execution | None = None,
        grounding: Grounding | None = None,
    ) -> Outcome | Execution:
        """Run the tool (prepared by the decision, or now) and word the answer. A value the
        decision did not already hold against the request's computed answer (a tool that needed
        a yes first, a new tool) is held against it now (:func:`disagreeing`)."""
        rid, request = req.rid, req.text
        req.stage = f"running {tool_name}"
        tool = await asyncio.to_thread(self.registry.get, tool_name)
        refused = await self.consent.tool_may_run(tool, rid)
        if refused:
            return Outcome(rid, Ending.FAILED, refused, Route.DECLINED, tool.name, attempts=attempts)
        if prepared is None:
            prepared = await self.executor.prepare(
                tool, request, request_id=rid, made_for_it=path == Route.SYNTHESISED
            )
        if prepared.kind == CallState.READY and (
            outside := await self.consent.paths_refused(prepared.outside, tool.name)
        ):
            return Outcome(rid, Ending.FAILED, outside, Route.DECLINED, tool.name, attempts=attempts)
        if prepared.kind == CallState.REFUSED:
            return Outcome(
                rid, Ending.FAILED, f"{tool.name} was not run: {prepared.message}", Route.DECLINED, tool.name
            )
        if prepared.kind == CallState.VALUE:  # it ran, and agreed, for the decision
            run = prepared
            await best_effort(self.bus, f"record the use of {tool.name}", self.registry.record_use, tool.name)
        elif prepared.kind == CallState.READY:
            run = await self.executor.execute(tool, prepared, request_id=rid)
            run = disagreeing(tool, run, grounding) or run
        else:
            run = prepared
        if run.kind == CallState.VALUE:
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
            return Outcome(
                rid,
                Ending.ANSWER,
                text,
                path,
                run.tool,
                run.value,
                verified=True,
                attempts=attempts,
                args=dict(run.args),
            )
        if run.kind == CallState.QUESTION:
            return Outcome(rid, Ending.QUESTION, run.message, path, run.tool, attempts=attempts)
        return run
