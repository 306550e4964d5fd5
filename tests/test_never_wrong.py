"""Never confidently wrong: a found tool answers only when its result agrees with the request's
answer worked out apart; what cannot be known here is refused or asked back at once; a new tool
computes instead of recalling, and a worked example the model miscomputed does not block right
code. Stand-in model, real sandbox and library."""

from __future__ import annotations

import pytest

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.events import ToolCalled, ToolRegistered
from tui_agent.core.flow.grounding import Kind, read_reply
from tui_agent.core.flow.kinds import CallState
from tui_agent.core.synthesis.recall import answers_from_table
from tui_agent.core.tool.cases import Outcome, TestCase, agrees, matches


async def test_an_inverse_question_is_not_answered_by_the_forward_tool(model: ScriptedModel) -> None:
    model.on("ground", program("answer = 40 / 160 * 100"))
    model.on("args", {"missing": [], "value": 40, "percent": 160})
    services, _ = await services_for(model)
    try:
        decision = await services.orchestrator.decide("What percentage of 160 is 40?")
    finally:
        await services.aclose()
    assert decision.decision == "synthesise"
    forward = next(p for p in decision.checked if p.tool == "percentage_of")
    assert (
        forward.kind == "misfit" and "gives 64" in forward.message and "works out to 25.0" in forward.message
    )


async def test_one_more_step_is_not_answered_by_the_first(model: ScriptedModel) -> None:
    model.on("ground", program("answer = round((3 + 4 + 4) / 3, 1)"))
    services, _ = await services_for(model)
    try:
        decision = await services.orchestrator.decide(
            "What is the average of 3, 4 and 4, rounded to one decimal place?"
        )
    finally:
        await services.aclose()
    mean = next(p for p in decision.checked if p.tool == "mean_of")
    assert decision.decision == "synthesise" and mean.kind == "misfit"
    assert "gives 3.6666666666666665" in mean.message and "works out to 3.7" in mean.message


async def test_a_live_data_request_is_refused_in_one_call(model: ScriptedModel) -> None:
    model.on("ground", "LIVE: the current weather in Paris")
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("What is the weather in Paris right now?")
    finally:
        await services.aclose()
    assert outcome.kind == "failed" and outcome.path == "declined"
    assert outcome.text == (
        "I cannot answer this here: it needs live data (the current weather in Paris), "
        "and nothing here can fetch it."
    )
    assert model.asked == ["ground"] and outcome.llm_calls == 1
    assert not [e for e in seen if isinstance(e, ToolCalled | ToolRegistered)]


async def test_a_value_only_the_person_has_is_asked_back_in_one_call(model: ScriptedModel) -> None:
    model.on("ground", "ASK: What is your date of birth?")
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("How old am I?")
    finally:
        await services.aclose()
    assert outcome.kind == "question" and outcome.text == "What is your date of birth?"
    assert model.asked == ["ground"]
    assert not [e for e in seen if isinstance(e, ToolCalled | ToolRegistered)]


def test_reading_the_models_reply() -> None:
    assert read_reply("LIVE: bitcoin price") == (Kind.LIVE, "bitcoin price")
    assert read_reply("ASK: How much do you earn?") == (Kind.PERSONAL, "How much do you earn?")
    kind, code = read_reply(program("x = 2\nanswer = x * 3"))
    assert kind == Kind.VALUE and code.strip() == "x = 2\nanswer = x * 3"
    assert read_reply("answer = 7")[0] == Kind.VALUE
    assert read_reply("I am not sure.")[0] == Kind.NONE


async def test_today_is_the_hosts_date(model: ScriptedModel) -> None:
    import datetime as dt

    services, _ = await services_for(model)
    try:
        grounding = await services.orchestrator.decider.grounder.run(
            "answer = (today - datetime.date(2026, 1, 1)).days", dt.date(2026, 12, 7)
        )
        wrong = await services.orchestrator.decider.grounder.run(
            "answer = undefined_name + 1", dt.date.today()
        )
    finally:
        await services.aclose()
    assert grounding.kind == Kind.VALUE and grounding.value == 340
    assert wrong.kind == Kind.NONE and "NameError" in wrong.why


async def test_a_tool_that_agrees_only_on_the_requests_own_values_does_not_answer(
    model: ScriptedModel,
) -> None:
    """count_words gives 2 for 'Hello World', and so many capitals it has: agreement by chance.
    On the text twice over, the words are 3 and the capitals 4, so count_words is not the
    request's tool; for a request about words it agrees there too and answers."""
    capitals = program("text = 'Hello World'\nanswer = sum(c.isupper() for c in text)")
    words = program("answer = len('to be or not to be'.split())")
    model.on("ground", capitals, words)
    services, _ = await services_for(model)
    try:
        chance = await services.orchestrator.decide("How many uppercase letters are in 'Hello World'?")
        right = await services.orchestrator.decide("How many words are in 'to be or not to be'?")
    finally:
        await services.aclose()
    counted = next(p for p in chance.checked if p.tool == "count_words")
    assert chance.decision == "synthesise" and counted.kind == CallState.MISFIT
    assert counted.message == (
        "count_words agrees with the request on its own values only: called with "
        "{'text': 'Hello WorldHello World'} it gives 3, and the request's program there gives 4"
    )
    assert right.decision == "reuse" and right.tool == "count_words"


# --- new tools compute ----------------------------------------------------------------------------

WEATHER_SPEC = '''```python
def weather_word(city: str) -> str:
    """A one-word description of a city's weather.

    Args:
        city: the city

    >>> weather_word("Paris")
    'Sunny'
    """
```'''
TABLE = (
    "def weather_word(city: str) -> str:\n"
    '    table = {"Paris": "Sunny", "London": "Rainy", "Tokyo": "Cloudy", "Oslo": "Snowy"}\n'
    '    return table.get(city, "Unknown")\n'
)


def test_a_lookup_table_of_the_tests_is_recall_and_unit_factors_are_not() -> None:
    cases = [
        TestCase(name="paris", args={"city": "Paris"}, expected="Sunny"),
        TestCase(name="london", args={"city": "London"}, expected="Rainy"),
        TestCase(name="tokyo", args={"city": "Tokyo"}, expected="Cloudy"),
    ]
    assert answers_from_table(TABLE, cases).startswith("answers its tests from a table")
    factors = (
        'METERS = {"km": 1000.0, "m": 1.0, "mi": 1609.344}\n\n'
        "def convert(value: float, unit: str, to: str) -> float:\n"
        "    return value * METERS[unit] / METERS[to]\n"
    )
    unit_cases = [
        TestCase(name="a", args={"value": 1, "unit": "km", "to": "m"}, expected=1000.0),
        TestCase(name="b", args={"value": 1, "unit": "mi", "to": "m"}, expected=1609.344),
    ]
    assert answers_from_table(factors, unit_cases) == ""
    months = (
        "DAYS = {1: 31, 2: 28, 3: 31, 4: 30, 5: 31, 6: 30, 7: 31, 8: 31, 9: 30, 10: 31, 11: 30, 12: 31}\n\n"
        "def days_in(month: int) -> int:\n    return DAYS[month]\n"
    )
    month_cases = [
        TestCase(name=f"m{m}", args={"month": m}, expected=d) for m, d in [(1, 31), (2, 28), (4, 30)]
    ]
    assert answers_from_table(months, month_cases) == ""


async def test_a_tool_that_recalls_its_tests_is_rejected(model: ScriptedModel) -> None:
    """The first code answers its cases from a table and is never verified; the repair that
    computes (here: from the city's name) is the tool."""
    cases = program(
        'assert weather_word(city="London") == "Rainy"\n'
        'assert weather_word(city="Tokyo") == "Cloudy"\n'
        'assert weather_word(city="Oslo") == "Snowy"\n'
        'assert weather_word(city="Lima") == "Unknown"'
    )
    computed = (
        "def weather_word(city: str) -> str:\n"
        "    words = ['Sunny', 'Rainy', 'Cloudy', 'Snowy', 'Unknown']\n"
        "    order = ['Paris', 'London', 'Tokyo', 'Oslo']\n"
        "    return words[order.index(city)] if city in order else words[-1]\n"
    )
    model.on("ground", "I cannot").on("spec", WEATHER_SPEC).on("tests", cases)
    model.code("implementation", TABLE).code("implementation", computed)
    services, seen = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle("Describe the weather in 'Paris' in one word")
    finally:
        await services.aclose()
    steps = [e for e in seen if getattr(e, "step", "") == "implementation" and e.status == "failed"]
    assert steps and steps[0].detail.startswith("answers its tests from a table")
    assert outcome.kind == "answer" and outcome.value == "Sunny"
    assert "order.index" in services.registry.get(outcome.tool).tool_source


# --- a miscomputed worked example ---------------------------------------------------------------------

INTEREST_SPEC = '''```python
def compound_balance(principal: float, rate: float, years: int) -> float:
    """The balance after compound interest, compounded once a year.

    Args:
        principal: the amount deposited
        rate: the yearly rate in percent, 5 for 5%
        years: how many years

    >>> compound_balance(1000, 5, 2)
    1100.0
    """
```'''
INTEREST_TESTS = program(
    "assert compound_balance(principal=100, rate=10, years=1) == 110.0\n"
    "assert compound_balance(principal=100, rate=0, years=5) == 100.0\n"
    "assert compound_balance(principal=200, rate=50, years=2) == 450.0\n"
    "assert compound_balance(principal=0, rate=5, years=3) == 0.0"
)
INTEREST = (
    "def compound_balance(principal: float, rate: float, years: int) -> float:\n"
    "    return principal * (1 + rate / 100) ** years\n"
)


async def test_a_miscomputed_example_is_corrected_by_the_computed_answer(model: ScriptedModel) -> None:
    """The spec's example says 1100 for the request's own values (simple interest, a slip); the
    program written apart computes 1102.5. The spec is asked for again with both values, and kept
    as soon as the model repeats the same design with its slip (no third draw); its example takes
    the computed answer, which the right code gives: it is the tool, and its answer is the
    request's."""
    model.on("ground", program("answer = 1000 * (1 + 5 / 100) ** 2"))
    model.on("spec", INTEREST_SPEC, INTEREST_SPEC, INTEREST_SPEC)
    model.on("tests", INTEREST_TESTS).code("implementation", INTEREST)
    services, seen = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle(
            "What is the balance of 1000 dollars after 2 years at 5% interest compounded yearly?"
        )
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "synthesised"
    assert outcome.value == pytest.approx(1102.5) and outcome.attempts == 1
    record = services.registry.store.record(outcome.tool)
    example = next(c for c in record.cases if c["name"] == "example_1")
    assert example["expected"] == pytest.approx(1102.5) and example["anchor"]
    assert model.asked.count("spec") == 2
    asked_again = [said for step, said in model.prompts if step == "spec"][1]
    assert "works out to 1102.5" in asked_again and "1100.0" in asked_again
    said = [getattr(e, "line", "") for e in seen]
    assert any("is 1102.5, as computed apart, not 1100.0" in line for line in said)


def test_a_value_that_disagrees_with_the_computed_answer_is_never_stated() -> None:
    """Even a call its own tests stand behind (a new tool's example for the request's values,
    which implementations written from a misread spec all agree on) does not answer when the
    request worked out apart says otherwise."""
    from tui_agent.core.flow.answering import disagreeing
    from tui_agent.core.flow.call import Execution
    from tui_agent.core.flow.grounding import Grounding
    from tui_agent.core.flow.kinds import CallState
    from tui_agent.core.tool.record import Tool, ToolRecord

    args = {"value": 40, "percent": 160}
    record = ToolRecord(
        name="percentage_of_2",
        version=1,
        spec={"function_name": "percentage_of_2", "parameters": [{"name": "value", "type": "float"}]},
        sha256={"tool": "", "tests": ""},
        cases=[{"name": "example_1", "args": args, "expected": 64.0}],
    )
    tool = Tool(record, "", "")
    run = Execution(CallState.VALUE, "percentage_of_2", args, value=64.0)
    refused = disagreeing(tool, run, Grounding(Kind.VALUE, value=25.0))
    assert refused is not None and refused.kind == CallState.MISFIT
    assert "gives 64.0" in refused.message and "works out to 25.0" in refused.message
    assert disagreeing(tool, run, Grounding(Kind.VALUE, value=64)) is None
    assert disagreeing(tool, run, Grounding(Kind.NONE)) is None


@pytest.mark.parametrize(
    ("request_text", "reply", "question"),
    [
        ("How old am I?", program("answer = 25"), "which values should I use?"),
        (
            "What is my monthly salary after tax?",
            program("salary = 50000\ntax_rate = 0.21\nanswer = salary * (1 - tax_rate)"),
            "which values should I use?",
        ),
        (
            "How many days until my birthday?",
            program("birthday = input('What is your birthday (YYYY-MM-DD)? ')\nanswer = 1"),
            "What is your birthday (YYYY-MM-DD)?",
        ),
    ],
)
async def test_a_program_that_invents_or_asks_for_the_persons_values_is_a_question(
    model: ScriptedModel, request_text: str, reply: str, question: str
) -> None:
    """A small model writes programs for requests only the person can answer, with values it made
    up or an input() call: a program that reads nothing the request gives (and not today's date)
    is no evidence, and a request that gives nothing is asked back."""
    model.on("ground", reply)
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle(request_text)
    finally:
        await services.aclose()
    assert outcome.kind == "question" and outcome.text.endswith(question)
    assert model.asked == ["ground"] and not [e for e in seen if isinstance(e, ToolCalled | ToolRegistered)]


def test_two_right_conversions_agree_and_two_counts_one_apart_do_not() -> None:
    """5 km in miles, by 1 / 1.60934 and by 0.621371: the same answer, both to the host and to
    the tool's tests. Two whole numbers agree only when equal, however large."""
    apart, tool = 5 / 1.60934, 5 * 0.621371
    assert agrees(tool, apart) and agrees(apart, tool)
    case = TestCase(name="the_request", args={"kilometers": 5}, expected=apart, anchor=True)
    assert matches(case, Outcome(kind="value", value=tool))
    assert not agrees(tool, 3.11) and not matches(case, Outcome(kind="value", value=3.11))
    assert not agrees(1_000_001, 1_000_000) and agrees(1_000_000, 1_000_000.0)
