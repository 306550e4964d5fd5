"""More than one step: a plan over the library. When no one tool answers a request, the model is
shown the tools the search found (signature, what each computes, a worked example) and writes the
steps: each a call of one of those tools, its arguments the request's values or earlier results
(``"$1"``), or a plain sub-request for a new tool. The tool names are constrained by the reply's
schema (an enum of the tools shown), so a plan cannot name a tool that does not exist. Whatever
can be checked without reading English is checked before anything runs (:func:`problems`): each
argument is a parameter of that tool, every required one is given, a reference points back, and
every value the request gives is used. Values pass between steps as data, by the host."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.request.patterns import STEP_REF
from tui_agent.core.request.reading import read
from tui_agent.core.request.values import grounded
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec

NEW = "new"
MAX_STEPS = 3
REF_IN_TEXT = STEP_REF


@dataclass(frozen=True)
class PlannedStep:
    tool: str  # a library tool's name, or NEW
    args: dict[str, Any]  # a library step's arguments: literals or "$k"
    request: str = ""  # a new step's sub-request, "$k" for earlier results

    def to_dict(self) -> dict[str, Any]:
        return {"tool": self.tool, "args": self.args, "request": self.request}

    def refs(self) -> list[int]:
        """The 1-based steps whose results this one takes, by argument or in its request."""
        by_arg = [r for r in (reference(v) for v in self.args.values()) if r is not None]
        return by_arg + [int(k) for k in REF_IN_TEXT.findall(self.request)]


def plan_model(names: list[str]) -> type[BaseModel]:
    """The reply's schema: each step's tool one of ``names`` or "new" (an enum)."""
    choice: Any = Literal[tuple([*names, NEW])]  # type: ignore[valid-type]
    step = create_model(
        "PlanStep",
        tool=(choice, Field(description="the tool this step calls, or new")),
        args=(
            dict[str, Any],
            Field(
                default_factory=dict,
                description='arguments of the tool: values, or "$1" for step 1\'s result',
            ),
        ),
        request=(
            str,
            Field(default="", description='for new: the plain sub-request, "$1" for step 1\'s result'),
        ),
    )
    return create_model("Plan", steps=(list[step], Field(description="one to three steps, in order")))  # type: ignore[valid-type]


def reference(value: Any) -> int | None:
    """The 1-based step a ``"$k"`` argument refers to, else None."""
    match = STEP_REF.fullmatch(value.strip()) if isinstance(value, str) else None
    return int(match.group(1)) if match else None


def problems(steps: list[PlannedStep], tools: dict[str, Tool], request: str) -> str:
    """Why the plan cannot be run as it is ("" when it can), checked without running anything."""
    if not 2 <= len(steps) <= MAX_STEPS:
        return f"a plan has 2 to {MAX_STEPS} steps, this one {len(steps)}"
    used: list[Any] = []
    for index, step in enumerate(steps, 1):
        if any(not 1 <= r < index for r in step.refs()):
            return f"step {index} refers to a step that does not come before it"
        if step.tool == NEW:
            if not step.request.strip():
                return f"step {index} makes a new tool but says nothing of what it computes"
            used.append(REF_IN_TEXT.sub(" ", step.request))
            continue
        spec = ToolSpec.model_validate(tools[step.tool].record.spec)
        params = {p.name for p in spec.parameters}
        unknown = set(step.args) - params
        if unknown:
            return f"step {index}: {step.tool} has no parameter {sorted(unknown)[0]}"
        missing = {p.name for p in spec.parameters if p.required} - set(step.args)
        if missing:
            return f"step {index}: {step.tool} needs {sorted(missing)[0]}"
        literals = [v for v in step.args.values() if reference(v) is None]
        invented = [v for v in literals if not grounded(v, request)]
        if invented:
            return f"step {index} gives {step.tool} {invented[0]!r}, which the request does not give"
        used += literals
    return _dangling(steps) or _unused(request, used)


def _dangling(steps: list[PlannedStep]) -> str:
    """A step whose result no later step takes is lost: the plan answers with something else
    ("Make it upper case" after a reversal that it never names)."""
    taken = {r for step in steps for r in step.refs()}
    for index in range(1, len(steps)):
        if index not in taken:
            return f"no later step takes the result of step {index} (write ${index} where it goes)"
    return ""


@dataclass(frozen=True)
class Plan:
    steps: list[PlannedStep]
    whole: bool = True  # False: steps the model wrote after these could not run and were cut


def runnable(steps: list[PlannedStep], tools: dict[str, Tool], request: str) -> Plan | str:
    """The plan, or its longest beginning of two steps or more that passes :func:`problems` (a
    small model tends to add a step after the answer), else why it cannot run. Whether the steps
    answer the request is decided by running them against the computed answer, not here."""
    why = problems(steps, tools, request)
    if not why:
        return Plan(steps)
    for end in range(min(len(steps) - 1, MAX_STEPS), 1, -1):
        if not problems(steps[:end], tools, request):
            return Plan(steps[:end], whole=False)
    return why


def _unused(request: str, used: list[Any]) -> str:
    """Every number, quoted text and date the request gives must reach some step."""
    text = " ".join(str(v) for v in used)
    reading = read(request)
    for value in (*reading.quoted, *reading.dates):
        if value not in text:
            return f"no step uses {value!r}, which the request gives"
    given = {float(v) for v in used if isinstance(v, int | float) and not isinstance(v, bool)}
    given |= {float(n.value) for n in read(text).numbers}
    for lists in (v for v in used if isinstance(v, list)):
        given |= {float(x) for x in lists if isinstance(x, int | float)}
    for number in reading.numbers:
        if float(number.value) not in given and round(float(number.value) / 100, 12) not in given:
            return f"no step uses {number.text}, which the request gives"
    return ""


class Planner:
    def __init__(self, llm: LLMClient) -> None:
        self.llm = llm

    async def draft(
        self,
        request: str,
        tools: list[Tool],
        *,
        request_id: str = "",
        ran: tuple[Plan, str] | None = None,
    ) -> Plan | str:
        """The model's plan over ``tools`` that can run (:func:`runnable`), or why there is none
        (one line). A plan that cannot run is asked for once more, with the reason. ``ran``: a
        plan that ran and what its running showed (its value was not the request's), shown as
        the model's earlier reply so the next plan is written against it."""
        specs = [ToolSpec.model_validate(t.record.spec) for t in tools]
        by_name = {t.name: t for t in tools}
        messages = prompts.plan_messages(request, specs)
        if ran is not None:
            before, shown = ran
            messages = [
                *messages,
                {"role": "assistant", "content": json.dumps({"steps": [s.to_dict() for s in before.steps]})},
                {"role": "user", "content": f"That plan ran: {shown}. Write the whole plan again."},
            ]
        model = plan_model(list(by_name))
        why = ""
        for _attempt in range(2):
            try:
                reply = await self.llm.structured(
                    messages, model, purpose="plan", request_id=request_id, max_tokens=400
                )
            except LLMError as exc:
                return f"no plan could be read ({exc})"
            steps = [
                # a library step is its arguments; only a new step's request says anything
                PlannedStep(s.tool, dict(s.args), s.request.strip() if s.tool == NEW else "")
                for s in reply.steps  # type: ignore[attr-defined]
            ]
            if all(s.tool == NEW for s in steps):
                # nothing from the library: one new tool does the same in one synthesis, not several
                return "every step is a new tool, so one new tool answers it"
            planned = runnable(steps, by_name, request)
            if not isinstance(planned, str):
                return planned
            why = planned
            messages = [
                *messages,
                {"role": "assistant", "content": reply.model_dump_json()},
                {"role": "user", "content": f"That plan cannot run: {why}. Write the whole plan again."},
            ]
        return f"the plan could not run: {why}"
