"""Running a prepared call in the sandbox, the way a verification runs (:mod:`sandbox.mixing`),
and reading what came back as a value or an error. Records nothing: a run for a decision is
not a use (:class:`Executor` records uses)."""

from __future__ import annotations

from tui_agent.core.bus import EventBus
from tui_agent.core.events import ToolCalled
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.kinds import CallState
from tui_agent.core.library.sharing import tool_cases
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.types import admits_none


class ToolRunner:
    def __init__(self, sandbox: Sandbox, bus: EventBus | None = None) -> None:
        self.sandbox = sandbox
        self.bus = bus

    async def run(self, tool: Tool, prepared: Execution, *, request_id: str = "") -> Execution:
        """The call's value, or an error: a raise, a stop, a verified case that did not come out
        as verified beside it, or None from a tool that does not declare it may find nothing."""
        name, args = prepared.tool, prepared.args
        result = await self.sandbox.call(
            tool.tool_source,
            tool.record.function_name,
            args,
            checks=tool_cases(tool),
            request_id=request_id,
            files=prepared.files,
        )
        if self.bus is not None:
            self.bus.publish(
                ToolCalled(
                    name=name,
                    args=args,
                    ok=result.ok,
                    result=result.value,
                    error=result.error or None,
                    request_id=request_id,
                )
            )
        returns = tool.record.spec.get("return_type", "")
        if not result.ok:
            return Execution(CallState.ERROR, name, args, message=result.error or str(result.reason))
        if result.value is None and not admits_none(returns):
            # a tool that found nothing has not answered: None is no verified value
            message = f"{name} returned nothing (None) for these arguments, though it declares -> {returns}"
            return Execution(CallState.ERROR, name, args, message=message)
        return Execution(CallState.VALUE, name, args, value=result.value)
