"""More than one step: a plan over the library (tool names constrained to the ones shown), run step
by step with values passed as data, kept as a composite that answers in one step next time and
keeps its members' versions; a failing step ends the request naming it. Stand-in model, real
sandbox and library."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.events import (
    Answer,
    Event,
    PlanMade,
    PlanStepDone,
    RequestFailed,
    ToolRegistered,
)
from tui_agent.core.flow.decision import Outcome
from tui_agent.core.flow.other_values import other_call, program_on
from tui_agent.core.flow.planning import NEW, PlannedStep, plan_model, problems
from tui_agent.core.tool.cases import TestCase, render_tests

REQUEST = "What is 15% of 240, rounded up to the nearest 5?"
ROUND_SPEC = '''```python
def round_up_to_multiple(number: float, multiple: int) -> int:
    """Round a number up to the nearest multiple.

    Args:
        number: the number to round
        multiple: the step to round up to

    >>> round_up_to_multiple(36, 5)
    40
    """
```'''
ROUND_TESTS = (
    "```python\nassert round_up_to_multiple(number=41, multiple=5) == 45\n"
    "assert round_up_to_multiple(number=40, multiple=5) == 40\n"
    "assert round_up_to_multiple(number=1, multiple=10) == 10\n"
    "assert round_up_to_multiple(number=0, multiple=3) == 0\n```"
)
ROUND = (
    "import math\n\ndef round_up_to_multiple(number: float, multiple: int) -> int:\n"
    "    return int(math.ceil(number / multiple) * multiple)\n"
)
PLAN = {
    "steps": [
        {"tool": "percentage_of", "args": {"value": 240, "percent": 15}},
        {"tool": "new", "request": "Round $1 up to the nearest multiple of 5"},
    ]
}


async def watched(model: ScriptedModel, request: str) -> tuple[Outcome, list[Event], list[Event]]:
    """The request handled to its end: its outcome, every event, and its final events."""
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(request, request_id="r1")
        await services.bus.drain()
    finally:
        await services.aclose()
    finals = [e for e in seen if isinstance(e, Answer | RequestFailed) and e.request_id == "r1"]
    return outcome, seen, finals


def test_a_plan_can_only_name_the_tools_shown() -> None:
    schema = json.dumps(plan_model(["percentage_of", "is_prime"]).model_json_schema())
    assert '"enum": ["percentage_of", "is_prime", "new"]' in schema
    with pytest.raises(ValidationError):
        plan_model(["percentage_of"]).model_validate({"steps": [{"tool": "made_up_tool", "args": {}}]})


async def test_a_two_step_plan_with_a_found_and_a_new_tool_becomes_a_composite(model: ScriptedModel) -> None:
    model.on("ground", program("import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5"))
    model.on("plan", json.dumps(PLAN))
    model.on("ground", program("import math\nanswer = math.ceil(36 / 5) * 5"))  # the new step's own
    model.on("spec", ROUND_SPEC).on("tests", ROUND_TESTS).code("implementation", ROUND)
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(REQUEST)
        plan_calls = len(model.asked)
        model.on("ground", program("import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5"))
        again = await services.orchestrator.handle(REQUEST)
        changed = "def percentage_of(value: float, percent: float) -> float:\n    return -1.0\n"
        cases = [TestCase(name="anything", args={"value": 1, "percent": 1}, expected=-1.0)]
        verdict = await services.sandbox.verify(changed, "percentage_of", cases)
        services.registry.add(
            "percentage_of",
            changed,
            render_tests("percentage_of", cases),
            services.registry.get("percentage_of").record.spec,
            cases=cases,
            verdict=verdict.to_record(),
            new_version=True,
        )
        composite = services.registry.get(outcome.tool)
        pinned = await services.sandbox.call(
            composite.tool_source,
            composite.record.function_name,
            {"value": 300, "percent": 10, "multiple": 4},
        )
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value == 40
    assert [s["value"] for s in outcome.steps] == [36.0, 40]
    assert [s["tool"] for s in outcome.steps] == ["percentage_of", "round_up_to_multiple"]
    assert "step 1 percentage_of(value=240, percent=15) = 36" in outcome.text
    plans = [e for e in seen if isinstance(e, PlanMade)]
    assert len(plans) == 1 and [s["tool"] for s in plans[0].steps] == ["percentage_of", "new"]
    done = [
        (e.index, e.status)
        for e in seen
        if isinstance(e, PlanStepDone) and e.request_id == outcome.request_id
    ]
    assert done == [(1, "started"), (1, "done"), (2, "started"), (2, "done")]
    record = composite.record
    assert record.members == [
        {"name": "percentage_of", "version": 1},
        {"name": "round_up_to_multiple", "version": 1},
    ]
    assert record.verified and plan_calls >= 3
    # asked again: the composite answers in one step, by the template it learned
    assert again.kind == "answer" and again.path == "reused" and again.tool == outcome.tool
    assert again.value == 40 and again.llm_calls <= 2
    # percentage_of's new version does not change the composite: it still embeds v1
    assert pinned.ok and pinned.value == 32


async def test_a_failing_step_ends_the_request_naming_it_and_keeps_no_composite(model: ScriptedModel) -> None:
    model.on("ground", program("import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5"))
    model.on("plan", json.dumps(PLAN))
    model.on("ground", "LIVE: nothing")  # the new step cannot be worked out here
    outcome, seen, finals = await watched(model, REQUEST)
    assert outcome.kind == "failed" and outcome.text.startswith("step 2 of the plan (new) failed")
    assert len(finals) == 1 and isinstance(finals[0], RequestFailed)
    assert not [e for e in seen if isinstance(e, ToolRegistered)]


async def test_a_three_step_plan(model: ScriptedModel) -> None:
    request = "Take the average of 10, 20 and 60, find 10% of it, and tell me whether that is a prime number"
    model.on(
        "ground",
        program(
            "n = sum([10, 20, 60]) / 3 * 10 / 100\nanswer = n > 1 and all(n % d for d in range(2, int(n)))"
        ),
    )
    plan = {
        "steps": [
            {"tool": "mean_of", "args": {"numbers": [10, 20, 60]}},
            {"tool": "percentage_of", "args": {"value": "$1", "percent": 10}},
            {"tool": "is_prime", "args": {"n": "$2"}},
        ]
    }
    model.on("plan", json.dumps(plan))
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(request)
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value is True
    assert [s["value"] for s in outcome.steps] == [30.0, 3.0, True]


WORKED = "import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5"


def scripted(model: ScriptedModel, worked: str, *plans: dict[str, object]) -> None:
    """The request's program, the plans in turn, then what the new rounding step is made of."""
    model.on("ground", program(worked))
    model.on("plan", *(json.dumps(p) for p in plans))
    model.on("ground", program("import math\nanswer = math.ceil(36 / 5) * 5"))
    model.on("spec", ROUND_SPEC).on("tests", ROUND_TESTS).code("implementation", ROUND)


async def handled(model: ScriptedModel) -> Outcome:
    services, _ = await services_for(model)
    try:
        return await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()


async def test_a_plan_that_cannot_run_is_asked_for_again_with_the_reason(model: ScriptedModel) -> None:
    """The first plan hands a tool a number the request never gives: it is not run, and the
    model is told why and asked once more."""
    invented = {"steps": [{"tool": "percentage_of", "args": {"value": 240, "percent": 36}}, PLAN["steps"][1]]}
    scripted(model, WORKED, invented, PLAN)
    outcome = await handled(model)
    assert model.asked.count("plan") == 2
    told = [said for step, said in model.prompts if step == "plan"][-1]
    assert "That plan cannot run: step 1 gives percentage_of 36, which the request does not give" in told
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value == 40


EXTRA = {"steps": [*PLAN["steps"], {"tool": "percentage_of", "args": {"value": "$2", "percent": 15}}]}


async def test_a_cut_a_second_program_does_not_confirm_runs_the_whole_plan(model: ScriptedModel) -> None:
    """The request's program stops at 40, a step short, and the plan's third step would be cut
    there; a second program works it out to 6.0, as the whole plan does: the third step runs,
    and the plan answers 6.0 instead of the 40 both the cut and the first program gave."""
    scripted(model, WORKED, EXTRA)
    model.on("ground", program("import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5 * 15 / 100"))
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value == 6.0, outcome.text
    assert [s["value"] for s in outcome.steps] == [36.0, 40, 6.0]
    assert [e.index for e in seen if isinstance(e, PlanStepDone) and e.status == "done"] == [1, 2, 3]


@pytest.mark.parametrize(
    ("worked", "kept"),
    [
        # the program writes the request's numbers: moved to other values, it says what the
        # request comes to there, and the plan cut short holds there too
        (WORKED, True),
        # it writes 0.15 for the 15: no second point, and a plan cut short is not kept
        ("import math\nanswer = math.ceil(240 * 0.15 / 5) * 5", False),
    ],
)
async def test_a_step_written_after_the_answer_is_not_run(
    model: ScriptedModel, worked: str, kept: bool
) -> None:
    """Step 2 already gives the request's computed answer, and a second program confirms it; the
    step the model added after it is not run. Whether the step cut mattered for other values is
    unknown from this one request, so the plan is kept as a composite only when it agrees with
    the request's own program moved to other values."""
    scripted(model, worked, EXTRA)
    model.on("ground", program(worked))  # the second program, confirming the cut
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.value == 40, outcome.text
    assert [s["tool"] for s in outcome.steps] == ["percentage_of", "round_up_to_multiple"]
    assert not [e for e in seen if isinstance(e, PlanStepDone) and e.index == 3]
    registered = [e.name for e in seen if isinstance(e, ToolRegistered)]
    if kept:
        assert registered == ["round_up_to_multiple", outcome.tool] and outcome.tool != "round_up_to_multiple"
        cases = services.registry.store.record(outcome.tool).cases
        assert [c["name"] for c in cases] == ["the_request", "other_values"]
        assert cases[1]["args"] != cases[0]["args"]
    else:
        assert registered == ["round_up_to_multiple"] and outcome.tool == "round_up_to_multiple"


def test_the_requests_program_moves_to_other_values_only_without_guessing() -> None:
    program_ = "import math\nanswer = math.ceil(240 * 15 / 100 / 5) * 5"
    call = {"value": 240, "percent": 15}
    other = other_call(call)
    assert other == {"value": 243, "percent": 18}
    assert program_on(program_, call, other) == "import math\nanswer = math.ceil(243 * 18 / 100 / 5) * 5"
    assert program_on("answer = 5 * 5", {"a": 5, "b": 5}, {"a": 8, "b": 9}) is None  # one number, two roles
    assert program_on("answer = 240 * 0.15", call, other) is None  # 15 is not written
    assert program_on("answer = sum([4, 8, 1]) / 3", {"numbers": [4, 8, 1]}, {"numbers": [7, 11, 4]}) == (
        "answer = sum([7, 11, 4]) / 3"
    )
    # 60 minutes: the program's second 60 is seconds a minute, not the request's value
    assert program_on("answer = 60 * 60", {"minutes": 60}, {"minutes": 63}, strict=True) is None
    # a text the request quotes moves (to itself twice); a unit it names stays
    assert other_call({"text": "Hello", "unit": "km"}, ("Hello",)) == {"text": "HelloHello", "unit": "km"}


def test_a_step_whose_result_no_later_step_takes_is_a_problem() -> None:
    request = "Reverse the string 'drawer' and make it upper case"
    lost = [PlannedStep(NEW, {}, "Reverse the string 'drawer'"), PlannedStep(NEW, {}, "Make it upper case")]
    assert problems(lost, {}, request) == "no later step takes the result of step 1 (write $1 where it goes)"
    taken = [lost[0], PlannedStep(NEW, {}, "Make $1 upper case")]
    assert problems(taken, {}, request) == ""


async def test_a_plan_and_the_requests_program_that_disagree_are_decided_by_a_second_program(
    model: ScriptedModel,
) -> None:
    """The first program works the request out wrong (it forgets the rounding and adds 5); the
    plan's verified steps give 40. A second program, drawn apart, agrees with the plan: the plan
    answers. Had it agreed with the first, the plan would not have."""
    scripted(model, "answer = 240 * 15 / 100 + 5", PLAN)
    model.on("ground", program(WORKED))  # the second draw, after the new step's own program
    outcome = await handled(model)
    assert model.asked.count("ground") == 3
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value == 40


WHOLE_SPEC = '''```python
def percent_rounded_up(value: float, percent: float, multiple: int) -> int:
    """The given percent of a value, rounded up to the nearest multiple.

    >>> percent_rounded_up(240, 15, 5)
    40
    """
```'''
WHOLE_TESTS = (
    "```python\nassert percent_rounded_up(value=100, percent=10, multiple=5) == 10\n"
    "assert percent_rounded_up(value=100, percent=12, multiple=5) == 15\n"
    "assert percent_rounded_up(value=50, percent=50, multiple=10) == 30\n```"
)
WHOLE = (
    "import math\n\ndef percent_rounded_up(value: float, percent: float, multiple: int) -> int:\n"
    "    return int(math.ceil(value * percent / 100 / multiple) * multiple)\n"
)


async def test_a_first_step_that_already_answers_stands_when_a_step_after_it_moves_away(
    model: ScriptedModel,
) -> None:
    """The model's first step is the whole request, and it adds one nobody asked for (15% of
    the answer). The first step already gives what the request works out to, and a
    second program agrees: the first step's verified tool answers, as one tool would have, and
    no composite is made."""
    plan = {
        "steps": [
            {"tool": "new", "request": REQUEST},
            {"tool": "percentage_of", "args": {"value": "$1", "percent": 15}},
        ]
    }
    model.on("ground", program(WORKED), program(WORKED))  # the request's, then step 1's own
    model.on("plan", json.dumps(plan))
    model.on("spec", WHOLE_SPEC).on("tests", WHOLE_TESTS).code("implementation", WHOLE)
    model.on("ground", program(WORKED))  # the second draw, when step 2 moves away from 40
    outcome, seen, finals = await watched(model, REQUEST)
    assert model.asked.count("plan") == 1
    assert [(e.index, e.status) for e in seen if isinstance(e, PlanStepDone)][-1] == (2, "done")
    assert outcome.kind == "answer" and outcome.value == 40 and outcome.tool == "percent_rounded_up", (
        outcome.text
    )
    assert outcome.path == "synthesised" and not outcome.steps
    assert len(finals) == 1 and isinstance(finals[0], Answer) and finals[0].value == 40
    assert [e.name for e in seen if isinstance(e, ToolRegistered)] == ["percent_rounded_up"]


async def test_a_plan_of_new_tools_only_is_one_new_tool(model: ScriptedModel) -> None:
    """Nothing from the library in the plan: its steps would be as many syntheses for what one
    new tool does, so one new tool answers, and no plan is run."""
    plan = {"steps": [{"tool": "new", "request": REQUEST}, {"tool": "new", "request": "Calculate $1!"}]}
    model.on("ground", program(WORKED)).on("plan", json.dumps(plan))
    model.on("spec", WHOLE_SPEC).on("tests", WHOLE_TESTS).code("implementation", WHOLE)
    outcome, seen, finals = await watched(model, REQUEST)
    assert outcome.kind == "answer" and outcome.value == 40 and outcome.path == "synthesised", outcome.text
    assert not [e for e in seen if isinstance(e, PlanMade | PlanStepDone)]
    assert model.asked.count("spec") == 1 and len(finals) == 1


async def test_a_plan_whose_step_cannot_take_the_value_before_it_gives_way_to_one_new_tool(
    model: ScriptedModel,
) -> None:
    """15% of the average is 4.5, which is_prime (a whole number) cannot take: the plan was
    wrong, not a tool, so the request is not failed at step 3; one new tool answers it."""
    request = "Take the average of 10, 20 and 60, find 15% of it, and tell me whether that is a prime number"
    model.on(
        "ground",
        program(
            "n = sum([10, 20, 60]) / 3 * 15 / 100\nanswer = n == int(n) and n > 1 and all(n % d for d in range(2, int(n)))"
        ),
    )
    plan = {
        "steps": [
            {"tool": "mean_of", "args": {"numbers": [10, 20, 60]}},
            {"tool": "percentage_of", "args": {"value": "$1", "percent": 15}},
            {"tool": "is_prime", "args": {"n": "$2"}},
        ]
    }
    model.on("plan", json.dumps(plan))
    model.on(
        "spec",
        '''```python
def share_of_average_is_prime(numbers: list, percent: float) -> bool:
    """Whether the given percent of the numbers' average is a prime number.

    >>> share_of_average_is_prime([10, 20, 60], 15)
    False
    """
```''',
    )
    model.on(
        "tests",
        "```python\nassert share_of_average_is_prime(numbers=[10, 20], percent=10) is False\n"
        "assert share_of_average_is_prime(numbers=[10, 20, 60], percent=10) is True\n"
        "assert share_of_average_is_prime(numbers=[50, 50], percent=10) is True\n"
        "assert share_of_average_is_prime(numbers=[40], percent=10) is False\n```",
    )
    model.code(
        "implementation",
        "def share_of_average_is_prime(numbers: list, percent: float) -> bool:\n"
        "    n = sum(numbers) / len(numbers) * percent / 100\n"
        "    return n == int(n) and n > 1 and all(n % d for d in range(2, int(n)))\n",
    )
    outcome, seen, finals = await watched(model, request)
    assert [(e.index, e.status) for e in seen if isinstance(e, PlanStepDone)][-1] == (3, "failed")
    assert outcome.kind == "answer" and outcome.path == "synthesised", outcome.text
    assert outcome.value is False and outcome.tool == "share_of_average_is_prime"
    assert any("do not fit is_prime" in note for note in outcome.notes)
    assert len(finals) == 1 and isinstance(finals[0], Answer)


async def test_a_plan_two_programs_disagree_with_is_written_again_knowing_what_it_gave(
    model: ScriptedModel,
) -> None:
    """The first plan takes the median where the request asks for the average: its verified
    steps give 0.5, and two programs drawn apart both work the request out to 1.0. The model
    writes the plan once more, told what its steps gave, and the second plan answers."""
    request = "What is 25% of the average of 1, 2 and 9?"
    worked = program("answer = (1 + 2 + 9) / 3 * 25 / 100")
    first = {
        "steps": [
            {"tool": "median_of", "args": {"numbers": [1, 2, 9]}},
            {"tool": "percentage_of", "args": {"value": "$1", "percent": 25}},
        ]
    }
    second = {
        "steps": [
            {"tool": "mean_of", "args": {"numbers": [1, 2, 9]}},
            {"tool": "percentage_of", "args": {"value": "$1", "percent": 25}},
        ]
    }
    model.on("ground", worked, worked).on("plan", json.dumps(first), json.dumps(second))
    outcome, _, finals = await watched(model, request)
    assert outcome.kind == "answer" and outcome.path == "planned" and outcome.value == 1.0, outcome.text
    assert model.asked.count("plan") == 2 and len(finals) == 1
    told = [said for step, said in model.prompts if step == "plan"][1]
    assert told.endswith(
        "That plan ran: its steps give 0.5, but the request works out to 1.0. Write the whole plan again."
    )
