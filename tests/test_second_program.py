"""One program for a request is one draw of a small model: when it and the new tool's spec disagree
on the request's own values, a second program decides before either is taken as the answer.
Stand-in model, real sandbox and library."""

from __future__ import annotations

import pytest

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for

SPEC = '''```python
def minutes_to_seconds(minutes: float) -> float:
    """How many seconds are in a number of minutes.

    Args:
        minutes: how many minutes

    >>> minutes_to_seconds(2.5)
    150.0
    """
```'''
TESTS = program(
    "assert minutes_to_seconds(minutes=1) == 60.0\n"
    "assert minutes_to_seconds(minutes=0) == 0.0\n"
    "assert minutes_to_seconds(minutes=10) == 600.0"
)
CODE = "def minutes_to_seconds(minutes: float) -> float:\n    return minutes * 60.0\n"
REQUEST = "How many seconds are in 2.5 minutes?"


async def test_a_first_program_that_misreads_the_request_does_not_overrule_the_spec(
    model: ScriptedModel,
) -> None:
    """The first program reads minutes as hours (9000); the spec's example says 150. A second
    program that sides with the example leaves it standing: the spec is not drawn again, and the
    right code answers 150 instead of being held to 9000 (which no implementation of the spec
    can give, so the request used to fail)."""
    model.on("ground", program("answer = 2.5 * 60 * 60"), program("answer = 2.5 * 60"))
    model.on("spec", SPEC).on("tests", TESTS).code("implementation", CODE)
    services, seen = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "synthesised", outcome.text
    assert outcome.value == pytest.approx(150.0)
    assert model.asked.count("spec") == 1 and model.asked.count("ground") == 2
    first, second = (body for step, body in model.bodies if step == "ground")
    assert first["temperature"] == 0.0 and "seed" not in first
    assert second["temperature"] == 0.7 and second["seed"] == 7  # the same draw on every run
    said = "a second program gives 150.0, as the spec's example does, not 9000.0"
    assert any(said in getattr(e, "line", "") for e in seen)


@pytest.mark.parametrize("second", ["answer = 2.5 * 3600", "answer = 2.5 * 6"])
async def test_a_second_program_that_does_not_side_with_the_spec_keeps_the_first(
    model: ScriptedModel, second: str
) -> None:
    """The second program agrees with the first (9000), or with neither (15): no two sources
    agree on the spec's 150, so the first program stands, as with one program, and the spec is
    asked for again with both values. A spec nobody confirms is never the answer's anchor."""
    model.on("ground", program("answer = 2.5 * 60 * 60"), program(second))
    model.on("spec", SPEC, SPEC).on("tests", TESTS).code("implementation", CODE)
    services, _ = await services_for(model, import_starters=False)
    try:
        await services.orchestrator.handle(REQUEST)
    finally:
        await services.aclose()
    assert model.asked.count("ground") == 2 and model.asked.count("spec") == 2
    asked_again = [said for step, said in model.prompts if step == "spec"][1]
    assert "works out to 9000.0" in asked_again and "150.0" in asked_again
