"""A plan run step by step, and kept as a composite when it answered right.

Each library step runs in the sandbox like any call (checked against its verified cases); each new
step is a plain sub-request answered by one tool (found, or made by TDD), never by another plan.
Values pass as data: a step's "$k" is the host's value of step k. A step that fails ends the
request with one failure naming it, and no composite is made. The last step's value must agree
with the request's answer worked out apart; then the plan is one function calling its members at
the versions that ran (:mod:`tool.composite`), verified in the sandbox and registered, so the same
request is answered in one step next time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from tui_agent.core.bus import EventBus
from tui_agent.core.events import PlanMade, PlanStepDone
from tui_agent.core.flow.bookkeeping import best_effort
from tui_agent.core.flow.call import Execution
from tui_agent.core.flow.decision import Decision, Outcome, Request
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.grounding import Grounder, Grounding, Kind, agrees
from tui_agent.core.flow.kinds import CallState, Ending, Route
from tui_agent.core.flow.planning import NEW, REF_IN_TEXT, PlannedStep, Planner, reference
from tui_agent.core.flow.responder import call_text, format_value, template
from tui_agent.core.library.registry import Registry
from tui_agent.core.request.templates import template_of
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.cases import TestCase, render_tests
from tui_agent.core.tool.composite import Member, Ref, Step, compose
from tui_agent.core.tool.record import Tool
from tui_agent.core.tool.spec import ToolSpec, call_model

SHOWN = 5  # library tools the planner is shown
Single = Callable[[Request], Awaitable[Outcome]]


@dataclass
class Ran:
    tool: Tool
    args: dict[str, Any]
    value: Any
    refs: dict[str, int]  # parameter -> the 0-based step whose value it took
    outcome: Outcome | None = None  # a new step's own answer


class Unfit(str):
    """Why a library step's arguments do not fit its tool once the values before it are known
    (a float result fed to an int parameter): the plan was wrong, not a tool."""


class Failed(Exception):
    """A step did not give a value: the request ends here, naming it (``ran``: the steps before),
    unless the plan was wrong (``unfit``): then one new tool is made, as with no plan."""

    def __init__(self, message: str, ran: list[Ran], *, unfit: bool = False) -> None:
        super().__init__(message)
        self.ran = ran
        self.unfit = unfit


def near(checked: Execution) -> bool:
    """A tool the decision held that may be a step of the answer: it ran on the request's
    values and gave a value of its own, or it was refused only for taking fewer values than
    the request gives (a step more is what the rest would need)."""
    if checked.kind != CallState.MISFIT:
        return False
    if checked.value is not None:
        return True
    judged = checked.judgement
    return judged is not None and judged.more_values and len(judged.vetoes) == 1


class Composer:
    def __init__(
        self,
        planner: Planner,
        grounder: Grounder,
        registry: Registry,
        executor: Executor,
        sandbox: Sandbox,
        bus: EventBus,
    ) -> None:
        self.planner = planner
        self.grounder = grounder
        self.registry = registry
        self.executor = executor
        self.sandbox = sandbox
        self.bus = bus

    async def answer(self, req: Request, decision: Decision, single: Single) -> Outcome | str:
        """The request answered by a plan, a failure naming the step that failed, or why no plan
        answers it (the caller makes one new tool instead)."""
        grounding = decision.grounding
        if grounding is None or grounding.kind != Kind.VALUE:
            return "no plan: the request's answer could not be worked out apart to hold one to"
        if not any(near(p) for p in decision.checked):
            return "no plan: no library tool came near"  # one new tool (saves a model call)
        names = [c.name for c in decision.search.candidates if c.verified][:SHOWN]
        tools = {n: await asyncio.to_thread(self.registry.get, n) for n in names}
        if not tools:
            return "no plan: the library has no verified tool to plan with"
        req.at("planning")
        plan = await self.planner.draft(req.text, list(tools.values()), request_id=req.rid)
        second: Grounding | None = None  # drawn once, when a plan's value is disputed
        for attempt in range(2):
            if isinstance(plan, str):
                return f"no plan: {plan}"
            self.bus.publish(PlanMade(steps=tuple(s.to_dict() for s in plan.steps), request_id=req.rid))
            try:
                ran = await self._run(req, plan.steps, tools, single, grounding.value)
                if len(ran) < len(plan.steps):
                    # steps after the request's value were not run: a program a step short cuts
                    # a right plan there too, so a second program must confirm the cut
                    second = second or await self._second(req)
                    if second.kind != Kind.VALUE or not agrees(ran[-1].value, second.value):
                        ran = await self._run(req, plan.steps, tools, single, None, ran)
            except Failed as exc:
                if exc.ran and agrees(exc.ran[0].value, grounding.value):
                    ran = exc.ran[:1]  # the first step already gave what the request works out to
                elif exc.unfit:
                    return f"no plan: {exc}"
                else:
                    return Outcome(req.rid, Ending.FAILED, str(exc), Route.FAILED)
            final = ran[-1].value
            if agrees(final, grounding.value):
                break
            # verified steps against one program the model wrote: a second, independent program
            # decides; the plan answers only when that one agrees with it
            second = second or await self._second(req)
            if second.kind == Kind.VALUE and agrees(final, second.value):
                grounding = second
                break
            if agrees(ran[0].value, grounding.value) and (
                second.kind != Kind.VALUE or agrees(ran[0].value, second.value)
            ):
                ran = ran[:1]  # the steps after the first moved away from the request's answer
                break
            shown = f"its steps give {final!r}, but the request works out to {grounding.value!r}"
            if attempt or second.kind != Kind.VALUE or not agrees(second.value, grounding.value):
                return f"no plan: {shown}"
            # two programs agree and the plan does not: a step is missing or wrong, and the model
            # writes the plan once more knowing what its steps gave
            req.at("planning again")
            plan = await self.planner.draft(
                req.text, list(tools.values()), request_id=req.rid, ran=(plan, shown)
            )
        if len(ran) == 1:
            return self._one(req, ran[0])
        # a plan cut short (a step after the answer, or one that could not run) is right for
        # this request; it is kept only when it also holds on other values (:meth:`_keep`)
        whole = plan.whole and len(ran) == len(plan.steps)
        name = await self._keep(req, ran, grounding.program, whole=whole)
        shown = "; ".join(
            f"step {i} {call_text(r.tool.name, r.args)} = {format_value(r.value)}"
            for i, r in enumerate(ran, 1)
        )
        text = f"The answer is {format_value(final)}: {shown}."
        record = [{"tool": r.tool.name, "args": r.args, "value": r.value} for r in ran]
        return Outcome(
            req.rid,
            Ending.ANSWER,
            text,
            Route.PLANNED,
            name or ran[-1].tool.name,
            final,
            verified=True,
            steps=record,
        )

    async def _second(self, req: Request) -> Grounding:
        """A second program for the request, drawn apart from the first (seeded)."""
        return await self.grounder.ground(req.text, request_id=req.rid, second=True)

    def _one(self, req: Request, step: Ran) -> Outcome:
        """The answer of a plan's first step alone: one tool, as if no plan had been drawn."""
        if step.outcome is not None:
            return step.outcome
        spec = ToolSpec.model_validate(step.tool.record.spec)
        text = template(spec, step.args, step.value)
        return Outcome(
            req.rid,
            Ending.ANSWER,
            text,
            Route.REUSED,
            step.tool.name,
            step.value,
            verified=True,
            args=step.args,
        )

    async def _run(
        self,
        req: Request,
        steps: list[PlannedStep],
        tools: dict[str, Tool],
        single: Single,
        answer: Any,
        done_before: list[Ran] | None = None,
    ) -> list[Ran]:
        """The steps in order, after the ones ``done_before``, up to the first from the second on
        whose value is the request's computed ``answer`` (None: all of them): a step the model
        added after the answer is not run. A first step that gives it goes on (the request's
        program may be a step short); :meth:`answer` falls back on it when the steps after it
        fail or move away."""
        ran: list[Ran] = list(done_before or [])
        for index, step in enumerate(steps, 1):
            if index <= len(ran):
                continue
            self.bus.publish(PlanStepDone(index=index, tool=step.tool, status="started", request_id=req.rid))
            req.at(f"running step {index} ({step.tool})")
            done = await (
                self._new(req, step, ran, single)
                if step.tool == NEW
                else self._library(req, step, tools, ran)
            )
            if isinstance(done, str):
                self.bus.publish(
                    PlanStepDone(
                        index=index, tool=step.tool, status="failed", detail=done, request_id=req.rid
                    )
                )
                raise Failed(
                    f"step {index} of the plan ({step.tool}) failed: {done}",
                    ran,
                    unfit=isinstance(done, Unfit),
                )
            ran.append(done)
            self.bus.publish(
                PlanStepDone(
                    index=index, tool=done.tool.name, status="done", value=done.value, request_id=req.rid
                )
            )
            if index >= 2 and answer is not None and agrees(done.value, answer):
                break
        return ran

    async def _library(
        self, req: Request, step: PlannedStep, tools: dict[str, Tool], ran: list[Ran]
    ) -> Ran | str:
        tool = tools[step.tool]
        refs = {k: r - 1 for k, v in step.args.items() if (r := reference(v)) is not None}
        args = {k: ran[refs[k]].value if k in refs else v for k, v in step.args.items()}
        spec = ToolSpec.model_validate(tool.record.spec)
        try:
            args = call_model(spec).model_validate(args).model_dump(by_alias=True)
        except ValidationError as exc:
            return Unfit(f"its arguments do not fit {tool.name}: {exc.errors()[0]['msg']}")
        run = await self.executor.runner.run(
            tool, Execution(CallState.READY, tool.name, args), request_id=req.rid
        )
        ok = run.kind == CallState.VALUE
        await best_effort(
            self.bus, f"record the use of {tool.name}", self.registry.record_use, tool.name, ok=ok
        )
        return Ran(tool, args, run.value, refs) if ok else run.message

    async def _new(self, req: Request, step: PlannedStep, ran: list[Ran], single: Single) -> Ran | str:
        used = [r - 1 for r in step.refs()]
        text = REF_IN_TEXT.sub(lambda m: format_value(ran[int(m.group(1)) - 1].value), step.request)
        outcome = await single(Request(req.rid, text, step=True))
        if outcome.kind != Ending.ANSWER or outcome.tool is None:
            return f"{text!r}: {outcome.text}"
        tool = await asyncio.to_thread(self.registry.get, outcome.tool)
        refs = {k: i for k, v in outcome.args.items() for i in used if agrees(v, ran[i].value)}
        return Ran(tool, dict(outcome.args), outcome.value, refs, outcome)

    async def _elsewhere(self, req: Request, program: str, call: dict[str, Any]) -> TestCase | None:
        """A case on other values whose expected value is the request's own program moved there
        and run in the sandbox, or None when there is no such point."""
        point = await self.grounder.elsewhere(program, call, request_id=req.rid)
        if point is None:
            return None
        other, expected = point
        return TestCase(name="other_values", args=other, expected=expected, anchor=True)

    async def _keep(self, req: Request, ran: list[Ran], program: str, *, whole: bool) -> str | None:
        """The plan as a composite tool, verified on the run's own call and, where the request's
        program can be moved to other values (:mod:`other_values`), on what it gives there;
        registered, its name, or None when it could not be kept (the answer stands either way).
        A plan cut short is kept only with that second point."""
        steps = []
        for r in ran:
            spec = ToolSpec.model_validate(r.tool.record.spec)
            member = Member(
                r.tool.name, r.tool.record.version, r.tool.record.function_name, r.tool.tool_source, spec
            )
            steps.append(Step(member, {k: Ref(r.refs[k]) if k in r.refs else v for k, v in r.args.items()}))
        base = "_then_".join(dict.fromkeys(r.tool.name for r in ran))[:60].strip("_")
        name = await asyncio.to_thread(self.registry.store.free_name, base)
        made = compose(name, req.text, steps)
        cases = [TestCase(name="the_request", args=made.call, expected=ran[-1].value, anchor=True)]
        other = await self._elsewhere(req, program, made.call)
        if other is None and not whole:
            return None
        cases += [other] if other is not None else []
        verdict = await self.sandbox.verify(made.source, name, cases, request_id=req.rid)
        if not verdict.passed:
            return None
        approved = all(r.tool.record.approved for r in ran)
        pinned = ", ".join(f"{m['name']} v{m['version']}" for m in made.members)
        saved = await best_effort(
            self.bus,
            f"keep the plan as the composite {name}",
            self.registry.add,
            name,
            made.source,
            render_tests(name, cases),
            made.spec.model_dump(),
            cases=cases,
            verdict=verdict.to_record(),
            request_id=req.rid,
            model="composite",
            why=f"composite of {pinned}",
            approved=approved,
            members=made.members,
            phrasings=[template_of(req.text, made.call) or req.text],
        )
        return name if saved else None
