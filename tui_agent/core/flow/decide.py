"""The decision for a request: reuse a tool, make a new one, or ask for a missing value, and why.
Nothing runs in the sandbox here, so `tools match` can show a decision without acting on it.

In order: a request worded like one a tool answered before (a learned template) is that tool's,
with no model call; otherwise the search's verified candidates at or above ``candidate_threshold``
are held, ``fit_checks`` at most, against the function the model says the request needs
(:mod:`fit`), and the first that fits (or asks for a value) is taken."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import DecisionMade, SearchResults
from tui_agent.core.flow.decision import Decision
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.fit import RequestSignature
from tui_agent.core.library.index import SearchResult
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError


class Decider:
    def __init__(
        self, llm: LLMClient, registry: Registry, executor: Executor, settings: Settings, bus: EventBus
    ) -> None:
        self.llm = llm
        self.registry = registry
        self.executor = executor
        self.settings = settings
        self.bus = bus

    async def decide(
        self, request: str, *, request_id: str = "", on_stage: Callable[[str], None] | None = None
    ) -> Decision:
        """Reuse, make or ask, and why, running nothing in the sandbox: the verified candidates
        the search ranks at or above ``candidate_threshold`` are checked in order (at most
        ``fit_checks`` of them) until one fits or asks for a value."""
        known = await self._known_wording(request, request_id)
        if known is not None:
            return known
        found = await asyncio.to_thread(self.registry.search, request)
        self.bus.publish(
            SearchResults(
                query=request,
                candidates=tuple(c.to_dict() for c in found.candidates),
                threshold=found.threshold,
                request_id=request_id,
            )
        )
        decision = Decision("synthesise", None, "no tool in the library is close enough", found)
        limit = self.settings.fit_checks
        candidates = [c for c in found.candidates if c.verified and c.score >= found.candidate_threshold][
            :limit
        ]
        draft = await self.draft(request, request_id) if candidates else None
        if candidates and draft is None:
            # the model could not say what function the request needs: only a strong match is
            # held against it (else "add up the digits of 98765" ran fibonacci)
            candidates = [c for c in candidates if c.score >= found.threshold]
            decision.reason = "the model could not draft the function needed, and no tool matches strongly"
        decision.draft = draft.function_name if draft else ""
        for candidate in candidates:
            if on_stage is not None:
                on_stage(f"checking {candidate.name}")
            tool = await asyncio.to_thread(self.registry.get, candidate.name)
            prepared = await self.executor.prepare(tool, request, request_id=request_id, draft=draft)
            decision.checked.append(prepared)
            if prepared.kind == "ready":
                reason = f"it computes what is asked ({candidate.name}, score {candidate.score:.2f})"
                decision = replace(
                    decision, decision="reuse", tool=candidate.name, reason=reason, prepared=prepared
                )
                break
            if prepared.kind == "refused":  # a file it may not have: no other tool may either
                decision = replace(
                    decision,
                    decision="refuse",
                    tool=candidate.name,
                    reason=prepared.message,
                    prepared=prepared,
                )
                break
            if prepared.kind == "question":
                decision = replace(
                    decision, decision="ask", tool=candidate.name, reason=prepared.message, prepared=prepared
                )
                break
            decision.reason = prepared.message
        self.bus.publish(
            DecisionMade(
                decision=decision.decision, tool=decision.tool, reason=decision.reason, request_id=request_id
            )
        )
        return decision

    async def _known_wording(self, request: str, request_id: str) -> Decision | None:
        """A request worded like one a verified, approved-or-not tool answered before (a learned
        template) but for its values: the same computation, decided without a model and without
        the embedding model (the lexical index finds the candidates)."""
        names = await asyncio.to_thread(self.registry.lexical_names, request)
        for name in names:
            tool = await asyncio.to_thread(self.registry.get, name)
            if not tool.record.verified:
                continue
            prepared = self.executor.from_template(tool, request)
            if prepared is None:
                continue
            empty = SearchResult(
                request, (), self.registry.threshold, self.registry.settings.candidate_threshold
            )
            kind = "refuse" if prepared.kind == "refused" else "reuse"  # a file it may not be given
            decision = Decision(kind, tool.name, prepared.message, empty, [prepared], prepared)
            self.bus.publish(
                DecisionMade(decision=kind, tool=tool.name, reason=prepared.message, request_id=request_id)
            )
            return decision
        return None

    async def draft(self, request: str, request_id: str) -> RequestSignature | None:
        """The function the request needs, as the model would name it (None if it cannot say)."""
        try:
            return await self.llm.structured(
                prompts.signature_messages(request),
                RequestSignature,
                purpose="signature",
                request_id=request_id,
                max_tokens=120,
            )
        except LLMError:
            return None  # no draft: the candidates are judged on what needs no model
