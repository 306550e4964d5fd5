"""The decision for a request: reuse a tool, make a new one, ask for a missing value, or refuse,
and why. Evidence by execution, not by wording:

1. A request worded like one a tool answered before (a learned template, the same words with
   other values) is that tool's, with no model call.
2. Otherwise the model works out what the request comes to, as a short program with no tool in
   view (:mod:`grounding`); the same call says when the request needs live data (refused) or a
   value only the person has (asked).
3. The search's verified candidates at or above ``candidate_threshold`` (``fit_checks`` at most)
   are held to the checks that need no wording (a file goes only to a tool that reads files,
   every value the request gives is used, the arguments bind to typed parameters), then run in
   the sandbox on the request's values: the first whose result agrees with the computed answer
   is reused. One that disagrees does not answer this request, and the reason shows both values.
   Without a computed answer, only a strong match (at or above the search threshold) is held,
   and the first that passes the checks is reused.

Running a candidate for the decision records no use: ``tools match`` shows a decision without
acting on it."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import DecisionMade, SearchResults
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.decision import Decision
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.grounding import Grounder, Grounding, Kind, agrees
from tui_agent.core.flow.kinds import CallState, Choice
from tui_agent.core.library.index import SearchResult
from tui_agent.core.library.registry import Registry
from tui_agent.core.request.reading import read
from tui_agent.core.tool.record import Tool


class Decider:
    def __init__(
        self, grounder: Grounder, registry: Registry, executor: Executor, settings: Settings, bus: EventBus
    ) -> None:
        self.grounder = grounder
        self.registry = registry
        self.executor = executor
        self.settings = settings
        self.bus = bus

    def _empty(self, request: str) -> SearchResult:
        return SearchResult(request, (), self.registry.threshold, self.registry.settings.candidate_threshold)

    def _published(self, decision: Decision, request_id: str) -> Decision:
        self.bus.publish(
            DecisionMade(
                decision=decision.decision, tool=decision.tool, reason=decision.reason, request_id=request_id
            )
        )
        return decision

    async def decide(
        self, request: str, *, request_id: str = "", on_stage: Callable[[str], None] | None = None
    ) -> Decision:
        """Reuse, make, ask or refuse, and why."""
        known = await self._known_wording(request, request_id)
        if known is not None:
            return known
        if on_stage is not None:
            on_stage("working out what the request comes to")
        grounding = await self.grounder.ground(request, request_id=request_id)
        if grounding.kind == Kind.LIVE:
            reason = f"it needs live data ({grounding.needs}), and nothing here can fetch it"
            return self._published(
                Decision(Choice.REFUSE, None, reason, self._empty(request), grounding=grounding), request_id
            )
        if grounding.kind == Kind.PERSONAL:
            return self._published(
                Decision(Choice.ASK, None, grounding.needs, self._empty(request), grounding=grounding),
                request_id,
            )
        if on_stage is not None:
            on_stage("searching the library")
        found = await asyncio.to_thread(self.registry.search, request)
        self.bus.publish(
            SearchResults(
                query=request,
                candidates=tuple(c.to_dict() for c in found.candidates),
                threshold=found.threshold,
                request_id=request_id,
            )
        )
        decision = Decision(
            Choice.MAKE, None, "no tool in the library is close enough", found, grounding=grounding
        )
        candidates = [c for c in found.candidates if c.verified and c.score >= found.candidate_threshold]
        if grounding.kind != Kind.VALUE:
            # nothing to hold a tool's result against: a tool that only resembles the request is
            # not run on a guess (else "add up the digits of 98765" ran fibonacci)
            candidates = [c for c in candidates if c.score >= found.threshold]
            decision.reason = f"the request's answer could not be worked out apart ({grounding.why}), and no tool matches strongly"
        for candidate in candidates[: self.settings.fit_checks]:
            if on_stage is not None:
                on_stage(f"checking {candidate.name}")
            tool = await asyncio.to_thread(self.registry.get, candidate.name)
            prepared = await self.held_to(tool, request, grounding, request_id, on_stage)
            decision.checked.append(prepared)
            if prepared.kind in (CallState.READY, CallState.VALUE):
                reason = f"it computes what is asked ({candidate.name}, score {candidate.score:.2f})"
                if prepared.kind == CallState.VALUE:
                    reason = f"{candidate.name} gives {prepared.value!r}, as the request works out to"
                choice = Choice.REUSE
            elif prepared.kind == CallState.REFUSED:  # a file it may not have: no other tool may either
                choice, reason = Choice.REFUSE, prepared.message
            elif prepared.kind == CallState.QUESTION:
                choice, reason = Choice.ASK, prepared.message
            else:
                decision.reason = prepared.message
                continue
            decision = replace(
                decision, decision=choice, tool=candidate.name, reason=reason, prepared=prepared
            )
            break
        return self._published(decision, request_id)

    async def held_to(
        self,
        tool: Tool,
        request: str,
        grounding: Grounding,
        request_id: str,
        on_stage: Callable[[str], None] | None = None,
    ) -> Execution:
        """A candidate held to the checks that need no wording, then, when the request's answer
        was computed, run on the request's values: VALUE when its result agrees (the run is
        kept, so the answer needs no second run), MISFIT with both values when not."""
        prepared = await self.executor.prepare(tool, request, request_id=request_id)
        if prepared.kind == CallState.QUESTION and grounding.self_contained:
            # the model worked the request out from what it gives: a tool that needs more is
            # not the request's tool (an LCM of two numbers is not a product of three)
            message = f"{tool.record.function_name} needs {', '.join(prepared.missing)}, which the request does not give"
            return replace(prepared, kind=CallState.MISFIT, message=message)
        if prepared.kind != CallState.READY or grounding.kind != Kind.VALUE:
            return prepared
        if prepared.outside:
            return prepared  # a file outside the working directory: nothing runs before a yes
        name = tool.record.function_name
        if on_stage is not None:
            on_stage(f"running {name}")
        run = await self.executor.runner.run(tool, prepared, request_id=request_id)
        if run.kind == CallState.VALUE and agrees(run.value, grounding.value):
            chance = await self._by_chance(tool, prepared, grounding, request, request_id)
            if not chance:
                return replace(run, files=prepared.files, judgement=prepared.judgement)
            return Execution(
                CallState.MISFIT, name, prepared.args, message=chance, judgement=prepared.judgement
            )
        said = f"gives {run.value!r}" if run.kind == CallState.VALUE else f"fails ({run.message})"
        message = (
            f"{name} does not answer this request: called with {prepared.args} it {said}, "
            f"and the request works out to {grounding.value!r}"
        )
        value = run.value if run.kind == CallState.VALUE else None
        return Execution(
            CallState.MISFIT, name, prepared.args, value=value, message=message, judgement=prepared.judgement
        )

    async def _by_chance(
        self, tool: Tool, prepared: Execution, grounding: Grounding, request: str, request_id: str
    ) -> str:
        """Why a tool that agrees on the request's values agreed by chance ("" when it did not,
        or when there is no second point): on other values (numbers moved, quoted texts
        doubled) it and the request's own program part (two words in 'Hello World', and two
        capitals)."""
        if prepared.files:
            return ""  # a file's content cannot be moved
        point = await self.grounder.elsewhere(
            grounding.program, prepared.args, read(request).quoted, request_id, strict=True
        )
        if point is None:
            return ""
        other, expected = point
        again = await self.executor.runner.run(tool, replace(prepared, args=other), request_id=request_id)
        if again.kind == CallState.VALUE and agrees(again.value, expected):
            return ""
        said = f"gives {again.value!r}" if again.kind == CallState.VALUE else f"fails ({again.message})"
        return (
            f"{tool.record.function_name} agrees with the request on its own values only: called "
            f"with {other} it {said}, and the request's program there gives {expected!r}"
        )

    async def _known_wording(self, request: str, request_id: str) -> Decision | None:
        """A request worded like one a verified tool answered before (a learned template) but
        for its values: the same computation, decided without a model and without the embedding
        model (the lexical index finds the candidates)."""
        names = await asyncio.to_thread(self.registry.lexical_names, request)
        for name in names:
            tool = await asyncio.to_thread(self.registry.get, name)
            if not tool.record.verified:
                continue
            prepared = self.executor.from_template(tool, request)
            if prepared is None:
                continue
            kind = Choice.REFUSE if prepared.kind == CallState.REFUSED else Choice.REUSE
            decision = Decision(kind, tool.name, prepared.message, self._empty(request), [prepared], prepared)
            return self._published(decision, request_id)
        return None
