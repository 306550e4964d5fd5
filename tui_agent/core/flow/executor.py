"""Running a tool for a request: arguments extracted as structured output against a pydantic model
built from the tool's spec (types coerced and checked), a question back when a required value is
missing, a "does not fit" when the tool cannot serve the request, and the call in the sandbox."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from tui_agent.core.bus import EventBus
from tui_agent.core.events import ToolCalled
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.request.values import grounded
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import PYTHON_TYPES, ToolSpec


@dataclass
class Execution:
    """kind: value | question | misfit | error."""

    kind: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    message: str = ""
    missing: list[str] = field(default_factory=list)


def arguments_model(spec: ToolSpec) -> type[BaseModel]:
    """Every parameter optional here (the model may not find it), typed as the spec says, plus
    the model's own judgement: does the tool fit, and what is missing."""
    fields: dict[str, Any] = {
        "fits": (bool, Field(description="true when this function can answer the request")),
        "missing": (
            list[str],
            Field(default_factory=list, description="required parameters the request does not give"),
        ),
    }
    for p in spec.parameters:
        fields[p.name] = (
            PYTHON_TYPES[p.type] | None,
            Field(default=None, description=p.description or p.type),
        )
    return create_model(f"Arguments_{spec.function_name}", **fields)


class Executor:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, bus: EventBus | None = None
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.registry = registry
        self.bus = bus

    async def run(
        self, tool: Tool, request: str, *, request_id: str = "", made_for_it: bool = False
    ) -> Execution:
        """``made_for_it``: the tool was designed for this very request, and its spec has a worked
        example built from the request's own values. A small model asked to extract "Reverse the
        string 'hello'" sometimes hands over the answer ('olleh'); for such a tool that slip is
        corrected from the example. A reused tool that seems to need an invented value is the
        wrong tool."""
        spec = ToolSpec.model_validate(tool.record.spec)
        name = spec.function_name
        model = arguments_model(spec)
        extracted = await self.llm.structured(
            prompts.args_messages(spec, request), model, purpose="arguments", request_id=request_id
        )
        args = {
            p.name: getattr(extracted, p.name)
            for p in spec.parameters
            if getattr(extracted, p.name) is not None
        }
        invented = [key for key, value in args.items() if not grounded(value, request)]
        optional = {p.name for p in spec.parameters if not p.required}
        for key in [k for k in invented if k in optional]:  # not given: its default applies
            del args[key]
        invented = [k for k in invented if k not in optional]
        fits = bool(extracted.fits)  # type: ignore[attr-defined]
        if made_for_it and (invented or not fits):
            example = next(
                (e.args for e in spec.examples if all(grounded(v, request) for v in e.args.values())), None
            )
            if example is not None:
                args, invented, fits = dict(example), [], True
        if not fits:
            return Execution("misfit", name, message=f"{name} cannot answer this request")
        if invented:
            return Execution(
                "misfit", name, args, message=f"{', '.join(invented)} would not come from the request"
            )
        for p in spec.parameters:
            if p.name not in args and not p.required:
                args[p.name] = p.default
        missing = [p.name for p in spec.parameters if p.required and p.name not in args]
        if missing:
            described = ", ".join(
                f"{m} ({next(p.description or p.type for p in spec.parameters if p.name == m)})"
                for m in missing
            )
            return Execution(
                "question",
                name,
                args,
                missing=missing,
                message=f"To run {name} I need: {described}. What should I use?",
            )
        try:
            model.model_validate({**args, "fits": True})
        except ValidationError as exc:
            return Execution(
                "misfit",
                name,
                args,
                message=f"the request's values do not fit {name}: {exc.errors()[0]['msg']}",
            )
        result = await self.sandbox.call(tool.tool_source, name, args, request_id=request_id)
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
        if not result.ok:
            return Execution("error", name, args, message=result.error or str(result.reason))
        await asyncio.to_thread(self.registry.record_use, tool.name)
        return Execution("value", name, args, value=result.value)
