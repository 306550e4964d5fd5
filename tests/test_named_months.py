"""A month the request names ("April 2025") is a value it gives, the month's number: a new tool's
worked example may take it, and the call built from that example needs no question. Stand-in
model, real sandbox and library."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.request.reading import read
from tui_agent.core.request.values import grounded

SPEC = '''```python
def days_in_month(year: int, month: int) -> int:
    """How many days a month of a year has.

    Args:
        year: the year
        month: the month, 1 to 12

    >>> days_in_month(2025, 4)
    30
    """
```'''
TESTS = program(
    "assert days_in_month(year=2024, month=2) == 29\n"
    "assert days_in_month(year=2023, month=2) == 28\n"
    "assert days_in_month(year=2025, month=1) == 31"
)
CODE = (
    "import calendar\n\n\ndef days_in_month(year: int, month: int) -> int:\n"
    "    return calendar.monthrange(year, month)[1]\n"
)


def test_a_named_month_is_its_number() -> None:
    assert read("How many days are there in April 2025?").months == (4,)
    assert read("Is Dec 2024 longer than 'June'?").months == (12,)  # a quoted text is not read
    assert grounded(4, "How many days are there in April 2025?")
    assert not grounded(5, "How many days are there in April 2025?")


async def test_a_new_tool_for_a_named_month_answers_without_asking_for_it(model: ScriptedModel) -> None:
    model.on("ground", program("import calendar\nanswer = calendar.monthrange(2025, 4)[1]"))
    model.on("spec", SPEC).on("tests", TESTS).code("implementation", CODE)
    services, _ = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle("How many days are there in April 2025?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.value == 30, outcome.text
    assert model.asked.count("spec") == 1 and "args" not in model.asked
