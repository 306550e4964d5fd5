"""Running a tool for a request, in two steps: ``prepare`` finds the arguments (structured output
against a pydantic model built from the tool's spec, types coerced and checked) and says whether
the tool fits, what is missing, or that a value would be invented; ``execute`` calls the tool in
the sandbox. Preparing runs nothing, so a decision can be shown before anything runs."""

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
from tui_agent.core.tool.spec import ToolSpec, call_model, field_name, parameter_fields


@dataclass
class Execution:
    """kind: ready (arguments found, nothing run yet) | value | question | misfit | error."""

    kind: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    message: str = ""
    missing: list[str] = field(default_factory=list)


def judgement_names(spec: ToolSpec) -> tuple[str, str]:
    """The names the model answers "fits" and "missing" under, clear of the tool's parameters."""
    taken = {p.name for p in spec.parameters}
    fits = "fits" if "fits" not in taken else "request_fits"
    missing = "missing" if "missing" not in taken else "missing_values"
    return fits, missing


def arguments_model(spec: ToolSpec) -> type[BaseModel]:
    """Every parameter optional here (the model may not find it), typed as the spec says, plus
    the model's own judgement: does the tool fit, and what is missing."""
    fits, missing = judgement_names(spec)
    fields: dict[str, Any] = {
        "judged_fits": (
            bool,
            Field(alias=fits, description="true when this function can answer the request"),
        ),
        "judged_missing": (
            list[str],
            Field(
                default_factory=list,
                alias=missing,
                description="required parameters the request does not give",
            ),
        ),
        **parameter_fields(spec, optional=True),
    }
    return create_model(f"Arguments_{spec.function_name}", **fields)


class Executor:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, bus: EventBus | None = None
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.registry = registry
        self.bus = bus

    async def prepare(
        self, tool: Tool, request: str, *, request_id: str = "", made_for_it: bool = False
    ) -> Execution:
        """The call this request would make, without making it. ``made_for_it``: the tool was
        designed for this very request, and its spec has a worked example built from the
        request's own values. A small model asked to extract "Reverse the string 'hello'"
        sometimes hands over the answer ('olleh'); for such a tool that slip is corrected from
        the example. A reused tool that seems to need an invented value is the wrong tool."""
        spec = ToolSpec.model_validate(tool.record.spec)
        name = spec.function_name
        extracted = await self.llm.structured(
            prompts.args_messages(spec, request),
            arguments_model(spec),
            purpose="arguments",
            request_id=request_id,
        )
        found = {p.name: getattr(extracted, field_name(i)) for i, p in enumerate(spec.parameters)}
        args = {key: value for key, value in found.items() if value is not None}
        invented = [key for key, value in args.items() if not grounded(value, request)]
        optional = {p.name for p in spec.parameters if not p.required}
        for key in [k for k in invented if k in optional]:  # not given: its default applies
            del args[key]
        invented = [k for k in invented if k not in optional]
        fits = bool(extracted.judged_fits)  # type: ignore[attr-defined]
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
        missing = [p for p in spec.parameters if p.required and p.name not in args]
        if missing:
            described = ", ".join(f"{p.name} ({p.description or p.type})" for p in missing)
            return Execution(
                "question",
                name,
                args,
                missing=[p.name for p in missing],
                message=f"To run {name} I need: {described}. What should I use?",
            )
        try:
            args = call_model(spec).model_validate(args).model_dump(by_alias=True)
        except ValidationError as exc:
            return Execution(
                "misfit",
                name,
                args,
                message=f"the request's values do not fit {name}: {exc.errors()[0]['msg']}",
            )
        return Execution("ready", name, args)

    async def execute(self, tool: Tool, prepared: Execution, *, request_id: str = "") -> Execution:
        """Run a prepared call in the sandbox."""
        name, args = prepared.tool, prepared.args
        result = await self.sandbox.call(
            tool.tool_source, tool.record.function_name, args, request_id=request_id
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
        if not result.ok:
            return Execution("error", name, args, message=result.error or str(result.reason))
        await asyncio.to_thread(self.registry.record_use, tool.name)
        return Execution("value", name, args, value=result.value)

    async def run(
        self, tool: Tool, request: str, *, request_id: str = "", made_for_it: bool = False
    ) -> Execution:
        prepared = await self.prepare(tool, request, request_id=request_id, made_for_it=made_for_it)
        if prepared.kind != "ready":
            return prepared
        return await self.execute(tool, prepared, request_id=request_id)
