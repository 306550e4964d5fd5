"""What the model drafts before any code: the spec and the test cases, read from plain text.

A code model writes a function stub (signature, docstring, doctests) and ``assert`` lines far
more reliably than JSON that follows a schema, in fewer tokens, and with no grammar slowing every
token (llama.cpp's grammar sampling cost ~25 ms a token here, a third of the generation time).
JSON replies are still read, for endpoints and scripts that answer that way."""

from __future__ import annotations

import json

from pydantic import ValidationError

from tui_agent.core.llm import prompts
from tui_agent.core.llm.structured import extract_json
from tui_agent.core.synthesis.code import extract_code
from tui_agent.core.synthesis.computed import Anchor
from tui_agent.core.synthesis.outcome import SynthesisFailed
from tui_agent.core.synthesis.spec_checks import disagreement, own_example, settle_spec, spec_problem
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.cases import TestCase, TestPlan
from tui_agent.core.tool.described import described_function, stub_spec
from tui_agent.core.tool.read_tests import read_case_lines
from tui_agent.core.tool.spec import ToolSpec

SPEC_TRIES = 3
UNREADABLE = "the reply held no function signature with a docstring in a python code block"


def _json_reply(reply: str) -> object | None:
    text = reply.strip()
    if not (text.startswith("{") or text.startswith("```json")):
        return None
    try:
        return json.loads(extract_json(text))
    except ValueError:
        return None


def read_spec_reply(reply: str) -> ToolSpec | None:
    """The spec a reply holds: a function stub, or a ToolSpec as JSON; None when neither."""
    data = _json_reply(reply)
    if data is not None:
        try:
            return ToolSpec.model_validate(data)
        except ValidationError:
            return None
    return stub_spec(extract_code(reply))


def read_test_reply(reply: str, spec: ToolSpec) -> tuple[list[TestCase], int]:
    """The cases a test writer's reply holds, and how many statements could not be read."""
    data = _json_reply(reply)
    if data is not None:
        try:
            return TestPlan.model_validate(data).cases, 0
        except ValidationError:
            return [], 1
    return read_case_lines(extract_code(reply), spec.function_name, [p.name for p in spec.parameters])


async def make_spec(
    bench: Workbench,
    request: str,
    request_id: str,
    samples: dict[str, str] | None = None,
    anchor: Anchor | None = None,
) -> ToolSpec:
    """A spec whose parameters the request can fill. A request that writes the function out is
    its own spec. Otherwise the model drafts one, retried (sampling) with the reason when it
    cannot be read or its worked examples do not call it with the request's own values; a rule
    that cannot be met after the tries is a warning, not the end of the request. A design drawn
    again the same (its signature) that still miscomputes the request's example is kept at once:
    the model's arithmetic is what is off, and the run gives that example the computed answer.
    The first time the example and the computed answer disagree, a second program is drawn: the
    example stands only when it sides with the example (:class:`Anchor`)."""
    anchor = anchor or Anchor()
    described = described_function(request)
    if described is not None and described.spec is not None:
        bench.report.step(
            request_id, "spec", "started", 1, "the request writes the function out: it is the spec"
        )
        return described.spec
    problem = ""
    spec: ToolSpec | None = None
    designs: set[str] = set()  # the signatures drafted whose only fault was their arithmetic
    for attempt in range(SPEC_TRIES):
        reply = await bench.llm.complete(
            prompts.spec_messages(request, problem, samples),
            purpose="spec",
            request_id=request_id,
            temperature=0.5 if attempt else 0.0,
            max_tokens=600,
            stop=prompts.AFTER_CODE,
        )
        drafted = read_spec_reply(reply)
        if drafted is None:
            problem = UNREADABLE
        else:
            spec = settle_spec(drafted, request, anchor.value)
            if not spec.parameters:
                raise SynthesisFailed("spec", "the spec has no parameters: it would not be a general tool")
            problem = spec_problem(spec, request, anchor.value)
            own = own_example(spec, request) if problem else None
            if own is not None and problem == disagreement(spec, request, anchor.value):
                said = await anchor.settle(own.result)
                if said:
                    bench.report.say(request_id, said)
                    spec = settle_spec(drafted, request, anchor.value)
                    problem = spec_problem(spec, request, anchor.value)
            if not problem:
                return spec
            if problem == disagreement(spec, request, anchor.value):  # its arithmetic, not its design
                if spec.signature() in designs:
                    bench.report.step(
                        request_id, "spec", "done", attempt + 1, f"kept with a warning: {problem}"
                    )
                    return spec
                designs.add(spec.signature())
        bench.report.step(request_id, "spec", "failed", attempt + 1, problem)
        bench.report.step(request_id, "spec", "started", attempt + 2)
    if spec is None:
        raise SynthesisFailed("spec", f"no usable spec after {SPEC_TRIES} tries: {problem}")
    bench.report.step(request_id, "spec", "done", SPEC_TRIES, f"kept with a warning: {problem}")
    return spec
