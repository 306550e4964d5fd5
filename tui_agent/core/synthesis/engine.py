"""Test-driven synthesis of a tool, in steps that each publish events:
spec -> tests (cases as data) -> gates (enough cases, none passed by a stub) -> implementation
(streamed) -> verify (the cases' arguments run in the sandbox, the host compares) -> repair (at
most N) -> register.

The engine is the room's entry point and holds nothing of a request: what lasts between
requests is the :class:`Workbench` (model, sandbox, settings, reporter) and the library; one
synthesis lives in its :class:`~tui_agent.core.synthesis.run.SynthesisRun`. The flow decides
what to do with a drafted name the library has (see :meth:`synthesize`); this room never calls
back into it."""

from __future__ import annotations

from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis import repair
from tui_agent.core.synthesis.computed import Anchor
from tui_agent.core.synthesis.drafting import make_spec
from tui_agent.core.synthesis.outcome import SynthesisFailed, SynthesisResult
from tui_agent.core.synthesis.run import SynthesisRun
from tui_agent.core.synthesis.workbench import Reporter, Workbench
from tui_agent.core.tool.spec import ToolSpec

__all__ = ["SynthesisEngine", "SynthesisFailed", "SynthesisResult"]


class SynthesisEngine:
    def __init__(
        self,
        llm: LLMClient,
        sandbox: Sandbox,
        registry: Registry | None,
        settings: Settings,
        bus: EventBus | None = None,
    ) -> None:
        self.bench = Workbench(llm, sandbox, settings, Reporter(bus))
        self.registry = registry

    @property
    def settings(self) -> Settings:
        return self.bench.settings

    async def synthesize(
        self,
        request: str,
        *,
        request_id: str = "",
        register: bool = True,
        samples: dict[str, str] | None = None,
        spec: ToolSpec | None = None,
        anchor: Anchor | None = None,
    ) -> SynthesisResult:
        """A new tool for ``request``. When the spec drafted for it names a tool the library has,
        the result comes back early with ``existing`` set and the draft in ``spec``: the flow
        tries that tool and, if it does not serve, calls again with ``spec`` to go on under a
        free name. ``samples``: how each file the request names begins (shown, never stored);
        ``anchor``: what the request works out to, computed apart, for its worked example (a
        second program may change it: the flow reads it afterwards)."""
        run = SynthesisRun(
            self.bench,
            self.registry,
            request,
            request_id,
            register=register,
            samples=samples,
            spec=spec,
            anchor=anchor,
        )
        return await run.run()

    async def make_spec(
        self, request: str, request_id: str, samples: dict[str, str] | None = None
    ) -> ToolSpec:
        return await make_spec(self.bench, request, request_id, samples)

    async def correct(
        self, name: str, args: dict[str, Any], expected: Any = None, **options: Any
    ) -> repair.RepairOutcome:
        """A person's correction of ``name`` (:func:`repair.correct`)."""
        assert self.registry is not None
        return await repair.correct(self.bench, self.registry, name, args, expected, **options)

    async def repair_failure(
        self, name: str, args: dict[str, Any], *, request_id: str = ""
    ) -> repair.RepairOutcome:
        """``name`` failed on ``args`` (:func:`repair.repair_failure`)."""
        assert self.registry is not None
        return await repair.repair_failure(self.bench, self.registry, name, args, request_id=request_id)
