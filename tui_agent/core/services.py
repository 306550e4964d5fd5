"""Building the engine once: bus, journal, sandbox, library, LLM, synthesis, orchestrator. The
headless CLI and the dashboard are two views over the same Services."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import Notice
from tui_agent.core.flow.orchestrator import Orchestrator
from tui_agent.core.journal import Journal
from tui_agent.core.library.registry import Registry
from tui_agent.core.library.remotes import Remotes
from tui_agent.core.library.sharing import tool_cases
from tui_agent.core.llm.client import LLMClient, preload
from tui_agent.core.sandbox import Sandbox, Verdict, make_sandbox
from tui_agent.core.sandbox.results import verdict_event
from tui_agent.core.synthesis.engine import SynthesisEngine


@dataclass
class Services:
    settings: Settings
    bus: EventBus
    journal: Journal
    sandbox: Sandbox
    registry: Registry
    llm: LLMClient
    engine: SynthesisEngine
    orchestrator: Orchestrator

    async def retest(self, name: str, *, request_id: str = "") -> Verdict:
        """Rerun a tool's cases in the sandbox, judged here (each case streams as a SandboxOutput
        line), record the verdict and publish it."""
        tool = await asyncio.to_thread(self.registry.get, name)
        verdict = await self.sandbox.verify(
            tool.tool_source, tool.record.function_name, tool_cases(tool), request_id=request_id
        )
        await asyncio.to_thread(self.registry.set_verdict, name, verdict.to_record())
        self.bus.publish(verdict_event(name, verdict, request_id))
        return verdict

    async def pull(self) -> list[str]:
        """Pull every remote the library has: what comes in is verified in this sandbox and waits
        for a person's yes. One line per tool taken (or why not)."""

        def pull_all() -> list[str]:
            remotes = Remotes(self.registry.store, self.sandbox.verify_sync)
            names = remotes.urls()
            if not names:
                return ["the library has no remote: add one with `selfeng-tui library remote add NAME URL`"]
            return [note for name in names for note in remotes.pull(name)]

        notes = await asyncio.to_thread(pull_all)
        self.bus.publish(Notice(level="info", message="; ".join(notes)[:400]))
        return notes

    async def aclose(self) -> None:
        await self.llm.aclose()
        await asyncio.to_thread(self.sandbox.close)
        await self.bus.aclose()
        self.journal.close()


async def start_services(
    settings: Settings, bus: EventBus | None = None, *, warm_llm: bool = False
) -> Services:
    """Blocking parts run off the event loop, side by side: the sandbox, the library's files and
    index, and (``warm_llm``) the local model server, which loads in its own process while the
    rest starts and is waited for only by the first request that needs the model. The embedding
    model loads when a search first needs it. Raises SandboxUnavailable when nothing can run
    untrusted code: without a sandbox there is no verified answer to give."""
    bus = bus or EventBus()
    journal = Journal(settings.journal_dir)
    journal.attach(bus)
    llm = LLMClient(settings, bus)
    if warm_llm:
        llm.start_warming()
    registry = Registry(settings, bus)
    try:
        sandbox, _report, _ = await asyncio.gather(
            asyncio.to_thread(make_sandbox, settings, bus),
            asyncio.to_thread(registry.open, False),
            asyncio.to_thread(preload),  # so the first request does not import on the event loop
        )
    except BaseException:
        await llm.aclose()
        raise
    if settings.import_starters and registry.needs_starters():
        await asyncio.to_thread(registry.import_starters, sandbox.verify_sync)
    engine = SynthesisEngine(llm, sandbox, registry, settings, bus)
    return Services(
        settings,
        bus,
        journal,
        sandbox,
        registry,
        llm,
        engine,
        Orchestrator(llm, sandbox, registry, engine, bus),
    )
