"""A tool for a request, by job: :mod:`fit` holds it to the checks that need no wording,
:mod:`binding` finds its arguments, :mod:`running` runs it in the sandbox, and a use is recorded
after (:mod:`bookkeeping`, best effort). ``prepare`` runs nothing, so a decision can be shown
before anything runs; ``execute`` runs and records."""

from __future__ import annotations

from pathlib import Path

from tui_agent.core.bus import EventBus
from tui_agent.core.flow.arguments import more_numbers
from tui_agent.core.flow.binding import ArgumentBinder
from tui_agent.core.flow.bookkeeping import best_effort
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.fit import Judgement, file_mismatch, vetoes
from tui_agent.core.flow.kinds import CallState
from tui_agent.core.flow.running import ToolRunner
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec

__all__ = ["Execution", "Executor", "judge"]


def judge(tool: Tool, request: str) -> Judgement:
    """The tool held against the request by the checks that need no wording (:mod:`fit`)."""
    spec = ToolSpec.model_validate(tool.record.spec)
    return Judgement(vetoes(spec, request), more_values=more_numbers(request, spec) > 0)


class Executor:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, bus: EventBus | None = None
    ) -> None:
        self.registry = registry
        self.bus = bus
        self.binder = ArgumentBinder(llm)
        self.runner = ToolRunner(sandbox, bus)

    @property
    def allowed_paths(self) -> set[Path]:
        """Files outside the working directory a person allowed."""
        return self.binder.allowed_paths

    @allowed_paths.setter
    def allowed_paths(self, value: set[Path]) -> None:
        self.binder.allowed_paths = value

    @property
    def input_limit_mb(self) -> int:
        return self.binder.input_limit_mb

    @input_limit_mb.setter
    def input_limit_mb(self, value: int) -> None:
        self.binder.input_limit_mb = value

    async def prepare(
        self,
        tool: Tool,
        request: str,
        *,
        request_id: str = "",
        made_for_it: bool = False,
    ) -> Execution:
        """The call this request would make, without making it: a found tool judged first
        (a tool made for this very request is not), then its arguments."""
        judgement = None if made_for_it else judge(tool, request)
        if judgement is not None and not judgement.fits:
            message = f"{tool.record.function_name} does not answer this request: {judgement.reason}"
            return Execution(
                CallState.MISFIT, tool.record.function_name, message=message, judgement=judgement
            )
        prepared = await self.binder.arguments(tool, request, request_id=request_id, made_for_it=made_for_it)
        prepared.judgement = judgement
        return prepared

    def from_template(self, tool: Tool, request: str) -> Execution | None:
        """The call by a learned template (:meth:`ArgumentBinder.from_template`), held to the fit
        checks that need no model: a template is a way to find the call, never a way around them.
        A number the template writes out ("to the nearest 5") is part of the wording the tool
        answered, not a value it leaves unused: the request's values are its placeholders'."""
        prepared = self.binder.from_template(tool, request)
        if prepared is None:
            return None
        spec = ToolSpec.model_validate(tool.record.spec)
        return prepared if not file_mismatch(spec, request) else None

    async def execute(self, tool: Tool, prepared: Execution, *, request_id: str = "") -> Execution:
        """Run a prepared call in the sandbox, and record the use."""
        run = await self.runner.run(tool, prepared, request_id=request_id)
        await best_effort(
            self.bus,
            f"record the use of {run.tool}",
            self.registry.record_use,
            run.tool,
            ok=run.kind == CallState.VALUE,
        )
        return run
