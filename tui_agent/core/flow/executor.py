"""Running a tool for a request: ``prepare`` judges whether the tool computes what the request asks
(:mod:`fit`, no model) and finds the arguments (stated plainly, or one structured call; types
coerced and checked against the spec; a value the request does not give is asked for, never
invented); ``execute`` calls the tool in the sandbox. Preparing runs nothing, so a decision can
be shown before anything runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from tui_agent.core.bus import EventBus
from tui_agent.core.events import ToolCalled
from tui_agent.core.flow.arguments import plain_arguments, unused_values
from tui_agent.core.flow.bookkeeping import best_effort
from tui_agent.core.flow.fit import Judgement, RequestSignature, draft_vetoes, file_mismatch, kind_mismatch
from tui_agent.core.flow.inputs import check_files
from tui_agent.core.library.registry import Registry
from tui_agent.core.library.sharing import tool_cases
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, StructuredOutputError
from tui_agent.core.request.templates import match_template
from tui_agent.core.request.values import grounded, named_files
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec, call_model, field_name, parameter_fields
from tui_agent.core.tool.types import admits_none


@dataclass
class Execution:
    """kind: ready (arguments found, nothing run yet) | value | question | misfit | error."""

    kind: str
    tool: str
    args: dict[str, Any] = field(default_factory=dict)
    value: Any = None
    message: str = ""
    missing: list[str] = field(default_factory=list)
    judgement: Judgement | None = None
    files: dict[str, Path] = field(default_factory=dict)  # parameter -> the host file it reads
    outside: list[Path] = field(default_factory=list)  # files that need a person's yes


def arguments_model(spec: ToolSpec) -> type[BaseModel]:
    """Every parameter optional here (the request may not give it), typed as the spec says, and
    the names of the required ones the request does not give."""
    missing = "missing" if "missing" not in {p.name for p in spec.parameters} else "missing_values"
    fields: dict[str, Any] = {
        "judged_missing": (
            list[str] | None,
            Field(default=None, alias=missing, description="required parameters the request does not give"),
        ),
        **parameter_fields(spec, optional=True),
    }
    return create_model(f"Arguments_{spec.function_name}", **fields)


def _request_example(spec: ToolSpec, request: str) -> dict[str, Any] | None:
    """The worked example a tool made for this very request drew from it: every value the
    request's own, every required parameter given. It is the call the request asks for, so it
    needs no argument call (and a small model asked for "Reverse the string 'hello'" sometimes
    hands over the answer, 'olleh')."""
    if any(p.type == "file" for p in spec.parameters):
        return None  # its examples hold a file's content; the request names the file
    required = {p.name for p in spec.parameters if p.required}
    for example in spec.examples:
        if required <= set(example.args) and all(grounded(v, request) for v in example.args.values()):
            return dict(example.args)
    return None


def _named_file_args(spec: ToolSpec, request: str) -> dict[str, Any] | None:
    """The files the request names, one per file parameter in order, when the counts agree."""
    params = [p.name for p in spec.parameters if p.type == "file"]
    named = named_files(request) if params else []
    return dict(zip(params, named, strict=True)) if named and len(named) == len(params) else None


class Executor:
    def __init__(
        self, llm: LLMClient, sandbox: Sandbox, registry: Registry, bus: EventBus | None = None
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.registry = registry
        self.bus = bus
        self.allowed_paths: set[Path] = set()  # files outside the working directory a person allowed
        self.input_limit_mb = 50

    def judge(self, tool: Tool, request: str, draft: RequestSignature | None) -> Judgement:
        """The tool held against the request, with no model call (:mod:`fit`): its kind of
        answer, the values the request gives that it would leave unused, and the ``draft`` of the
        function the request needs."""
        spec = ToolSpec.model_validate(tool.record.spec)
        vetoes = [kind_mismatch(spec, request), file_mismatch(spec, request), unused_values(request, spec)]
        if draft is not None:
            vetoes += draft_vetoes(draft, spec, tool.record.phrasings, request)
        return Judgement(draft.function_name if draft else "", tuple(v for v in vetoes if v))

    async def arguments(
        self, tool: Tool, request: str, *, request_id: str = "", made_for_it: bool = False
    ) -> Execution:
        """The arguments the request gives: stated plainly (no model), or found by the model. A
        value the request does not give is asked for, never invented. ``made_for_it``: the tool
        was designed for this very request, and its worked example built from the request's own
        values is the call."""
        spec = ToolSpec.model_validate(tool.record.spec)
        name = spec.function_name
        found: dict[str, Any] | None = (
            _request_example(spec, request) if made_for_it else plain_arguments(request, spec)
        )
        files = _named_file_args(spec, request)
        required = {p.name for p in spec.parameters if p.required}
        if found is None and files is not None and required <= set(files):
            found = files  # "the price column in sales.csv": the file is the whole call
        if found is None:
            try:
                answer = await self.llm.structured(
                    prompts.args_messages(spec, request),
                    arguments_model(spec),
                    purpose="arguments",
                    request_id=request_id,
                    max_tokens=300,
                )
            except StructuredOutputError as exc:
                return Execution(
                    "misfit", name, message=f"no arguments for {name} could be read from the request ({exc})"
                )
            found = {p.name: getattr(answer, field_name(i)) for i, p in enumerate(spec.parameters)}
            found.update(files or {})  # the model writes "path/to/sales.csv"; the request said which
        args = {key: value for key, value in found.items() if value is not None and grounded(value, request)}
        for p in spec.parameters:
            if p.name not in args and not p.required:
                args[p.name] = p.default
        missing = [p for p in spec.parameters if p.required and p.name not in args]
        if missing:
            described = ", ".join(f"{p.name} ({p.description or p.type})" for p in missing)
            message = f"To run {name} I need: {described}. What should I use?"
            return Execution("question", name, args, missing=[p.name for p in missing], message=message)
        try:
            args = call_model(spec).model_validate(args).model_dump(by_alias=True)
        except ValidationError as exc:
            return Execution(
                "misfit",
                name,
                args,
                message=f"the request's values do not fit {name}: {exc.errors()[0]['msg']}",
            )
        return self._with_files(spec, args)

    def _with_files(self, spec: ToolSpec, args: dict[str, Any], message: str = "") -> Execution:
        """A call ready to run once its files are checked, or refused for one it may not have."""
        name = spec.function_name
        checked = check_files(spec, args, self.input_limit_mb, self.allowed_paths)
        if checked.refused:
            return Execution("refused", name, args, message=checked.refused)
        return Execution("ready", name, args, message=message, files=checked.files, outside=checked.outside)

    async def prepare(
        self,
        tool: Tool,
        request: str,
        *,
        request_id: str = "",
        made_for_it: bool = False,
        draft: RequestSignature | None = None,
    ) -> Execution:
        """The call this request would make, without making it: a found tool judged first
        (a tool made for this very request is not), then its arguments."""
        judgement = None if made_for_it else self.judge(tool, request, draft)
        if judgement is not None and not judgement.fits:
            message = f"{tool.record.function_name} does not answer this request: {judgement.reason}"
            return Execution("misfit", tool.record.function_name, message=message, judgement=judgement)
        prepared = await self.arguments(tool, request, request_id=request_id, made_for_it=made_for_it)
        prepared.judgement = judgement
        return prepared

    def from_template(self, tool: Tool, request: str) -> Execution | None:
        """The call, when the request reads as one this tool answered before (a learned
        template) but for its values: the same computation, decided without a model. The fit
        checks that need no model hold as for any candidate, and each value must be one the
        tool takes (its parameters' types and choices: convert_length takes no 'hours')."""
        spec = ToolSpec.model_validate(tool.record.spec)
        if self.judge(tool, request, None).vetoes:
            return None  # a template is a way to find the call, never a way around the fit check
        kinds = {p.name: p.type for p in spec.parameters}
        for template in tool.record.phrasings:
            args = match_template(template, request, kinds)
            if args is None or not all(grounded(v, request) for v in args.values()):
                continue
            for p in spec.parameters:
                if p.name not in args and not p.required:
                    args[p.name] = p.default
            try:
                args = call_model(spec).model_validate(args).model_dump(by_alias=True)
            except ValidationError:
                continue
            return self._with_files(spec, args, f"it answered {template!r} before")
        return None

    async def execute(self, tool: Tool, prepared: Execution, *, request_id: str = "") -> Execution:
        """Run a prepared call in the sandbox."""
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
        nothing = result.ok and result.value is None and not admits_none(returns)
        await best_effort(
            self.bus,
            "record the use of " + name,
            self.registry.record_use,
            name,
            ok=result.ok and not nothing,
        )
        if not result.ok:
            return Execution("error", name, args, message=result.error or str(result.reason))
        if nothing:  # a tool that found nothing has not answered: None is no verified value
            message = f"{name} returned nothing (None) for these arguments, though it declares -> {returns}"
            return Execution("error", name, args, message=message)
        return Execution("value", name, args, value=result.value)
