"""Binding a request's values to a tool's parameters: stated plainly (no model), learned from a
template the tool answered before, or found by one structured model call; types coerced and
checked against the spec (its choices too); a value the request does not give is asked for,
never invented; a file goes to the tool only when it may read it. Runs nothing."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, create_model

from tui_agent.core.flow.arguments import plain_arguments
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.inputs import check_files
from tui_agent.core.flow.kinds import CallState
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.request.templates import match_template
from tui_agent.core.request.values import grounded, named_files
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec, call_model, field_name, parameter_fields


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


TODAY = "today"


def host_values(spec: ToolSpec, given: dict[str, Any]) -> dict[str, Any]:
    """Values the host supplies to a tool that declares it needs them: a text parameter named
    ``today`` gets today's date (ISO), unless the request gave one. A tool never reads the clock
    in the sandbox, whose time nobody here vouches for."""
    return {
        p.name: dt.date.today().isoformat()
        for p in spec.parameters
        if p.name == TODAY and p.type in ("str", "any") and p.name not in given
    }


class ArgumentBinder:
    """``allowed_paths``: files outside the working directory a person allowed;
    ``input_limit_mb``: the largest file a tool may be given."""

    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm
        self.allowed_paths: set[Path] = set()
        self.input_limit_mb = 50

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
            except LLMError as exc:  # a reply that is no call, or no reply: this tool is no fit
                return Execution(
                    CallState.MISFIT,
                    name,
                    message=f"no arguments for {name} could be read from the request ({exc})",
                )
            found = {p.name: getattr(answer, field_name(i)) for i, p in enumerate(spec.parameters)}
            found.update(files or {})  # the model writes "path/to/sales.csv"; the request said which
        args = {key: value for key, value in found.items() if value is not None and grounded(value, request)}
        args.update(host_values(spec, args))
        for p in spec.parameters:
            if p.name not in args and not p.required:
                args[p.name] = p.default
        missing = [p for p in spec.parameters if p.required and p.name not in args]
        if missing:
            described = ", ".join(f"{p.name} ({p.description or p.type})" for p in missing)
            message = f"To run {name} I need: {described}. What should I use?"
            return Execution(
                CallState.QUESTION, name, args, missing=[p.name for p in missing], message=message
            )
        try:
            args = call_model(spec).model_validate(args).model_dump(by_alias=True)
        except ValidationError as exc:
            return Execution(
                CallState.MISFIT,
                name,
                args,
                message=f"the request's values do not fit {name}: {exc.errors()[0]['msg']}",
            )
        return self.with_files(spec, args)

    def from_template(self, tool: Tool, request: str) -> Execution | None:
        """The call, when the request reads as one this tool answered before (a learned
        template) but for its values: the same computation, decided without a model. Each value
        must be one the tool takes (its parameters' types and choices: convert_length takes no
        'hours'); the fit checks that need no model are the caller's (:class:`Executor`)."""
        spec = ToolSpec.model_validate(tool.record.spec)
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
            return self.with_files(spec, args, f"it answered {template!r} before")
        return None

    def with_files(self, spec: ToolSpec, args: dict[str, Any], message: str = "") -> Execution:
        """A call ready to run once its files are checked, or refused for one it may not have."""
        name = spec.function_name
        checked = check_files(spec, args, self.input_limit_mb, self.allowed_paths)
        if checked.refused:
            return Execution(CallState.REFUSED, name, args, message=checked.refused)
        return Execution(
            CallState.READY, name, args, message=message, files=checked.files, outside=checked.outside
        )
