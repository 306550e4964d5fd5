"""What a request's own program says about values nobody gave: a name it reads and nothing binds
(``birth_year``) is a value the person has, and is asked back; a bare standard name (``gcd``) is a
forgotten import and the program still computes; and a found tool that needs a value the request
does not give is not the request's tool when the model took the request as complete. Stand-in
model, real sandbox and library."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.events import ToolCalled, ToolRegistered
from tui_agent.core.flow.grounding import Grounding, Kind
from tui_agent.core.flow.kinds import CallState


async def test_a_program_that_reads_a_value_nobody_gave_asks_for_it(model: ScriptedModel) -> None:
    model.on("ground", program("answer = 2030 - birth_year"))
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("How old will I be in 2030?")
    finally:
        await services.aclose()
    assert outcome.kind == "question"
    assert outcome.text == "This depends on values you have not given me (birth year): what are they?"
    assert model.asked == ["ground"]
    assert not [e for e in seen if isinstance(e, ToolCalled | ToolRegistered)]


async def test_a_forgotten_import_and_a_span_of_days_still_compute(model: ScriptedModel) -> None:
    model.on("ground", program("answer = 4 * 6 // gcd(4, 6)"))
    model.on("ground", program("answer = datetime.date(2028, 3, 1) - date(2028, 2, 1)"))
    services, _ = await services_for(model)
    grounder = services.orchestrator.decider.grounder
    try:
        lcm = await grounder.ground("What is the least common multiple of 4 and 6?")
        days = await grounder.ground("How many days are there from 2028-02-01 to 2028-03-01?")
    finally:
        await services.aclose()
    assert (lcm.kind, lcm.value) == (Kind.VALUE, 12)
    assert (days.kind, days.value) == (Kind.VALUE, 29)


async def test_a_tool_needing_more_is_asked_about_only_when_the_request_was_not_worked_out(
    model: ScriptedModel,
) -> None:
    """days_between needs two dates; "how many days are there in February 2028?" gives none. The
    model wrote a program for it (one that is no evidence, its own 29): the request is complete
    to the model, so days_between is not its tool. With no program at all, the question stands."""
    missing = {"missing": ["start", "end"], "start": None, "end": None}
    model.on("args", missing, missing)
    request = "How many days are there in February 2028?"
    services, _ = await services_for(model)
    decider = services.orchestrator.decider
    try:
        tool = services.registry.get("days_between")
        worked = Grounding(
            Kind.NONE, program="answer = 29", why="the program uses none of the request's values"
        )
        misfit = await decider.held_to(tool, request, worked, "r1")
        question = await decider.held_to(tool, request, Grounding(Kind.NONE, why="no program"), "r2")
    finally:
        await services.aclose()
    assert misfit.kind == CallState.MISFIT
    assert misfit.message == "days_between needs start, end, which the request does not give"
    assert question.kind == CallState.QUESTION
