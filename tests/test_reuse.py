"""Reuse that is right: a found tool runs only when it computes what the request asks for, a
missing value becomes a question, and an answer claims no work the tool did not do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.events import DecisionMade, ToolCalled
from tui_agent.core.flow.arguments import unused_values
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.spec import ToolSpec

EXE = str(Path(sys.executable).parent / "selfeng-tui")
C_TO_F = {
    "function_name": "celsius_to_fahrenheit",
    "description": "Convert a temperature from degrees Celsius to degrees Fahrenheit.",
    "parameters": [{"name": "celsius", "type": "float", "description": "degrees Celsius"}],
    "return_type": "float",
    "docstring": "Return celsius * 9 / 5 + 32.",
    "examples": [{"args": {"celsius": 100}, "result": 212.0}],
}


def fit(**args: object) -> dict[str, object]:
    """An arguments reply."""
    return {"missing": [], **args}


async def test_a_request_with_one_more_step_is_not_answered_by_its_first_step(model: ScriptedModel) -> None:
    """The request works out to 'OLLEH'; reverse_string, run on the request's value, gives
    'olleh': it does not answer this request, and the reason shows both values."""
    model.on("ground", program("answer = 'hello'[::-1].upper()"))
    services, seen = await services_for(model)
    try:
        decision = await services.orchestrator.decide(
            "Reverse the string 'hello' and then convert it to upper case"
        )
    finally:
        await services.aclose()
    assert decision.decision == "synthesise" and decision.tool is None
    first = next(p for p in decision.checked if p.tool == "reverse_string")
    assert first.kind == "misfit"
    assert "gives 'olleh'" in first.message and "works out to 'OLLEH'" in first.message
    assert decision.grounding is not None and decision.grounding.value == "OLLEH"
    assert [e.name for e in seen if isinstance(e, ToolCalled)] == ["reverse_string"]
    record = services.registry.store.record("reverse_string")
    assert record.usage_count == 0  # run for the decision, not used


async def test_an_inverse_tool_is_refused_whatever_its_score(model: ScriptedModel) -> None:
    """The library's best match computes the inverse: run on the request's value it gives 413.6
    where the request works out to 100, so it does not answer."""
    model.on("ground", program("answer = (212 - 32) * 5 / 9"))
    services, _ = await services_for(model, import_starters=False)
    try:
        source = "def celsius_to_fahrenheit(celsius: float) -> float:\n    return celsius * 9 / 5 + 32\n"
        cases = [TestCase(name="boiling", args={"celsius": 100}, expected=212.0)]
        verdict = await services.sandbox.verify(source, "celsius_to_fahrenheit", cases)
        services.registry.add(
            "celsius_to_fahrenheit", source, "", C_TO_F, cases=cases, verdict=verdict.to_record()
        )
        decision = await services.orchestrator.decide("Convert 212 degrees Fahrenheit to Celsius")
    finally:
        await services.aclose()
    assert decision.search.candidates[0].name == "celsius_to_fahrenheit"
    assert decision.decision == "synthesise"
    refused = next(p for p in decision.checked if p.tool == "celsius_to_fahrenheit")
    assert "gives 413.6" in refused.message and "works out to 100.0" in refused.message


async def test_a_tool_that_agrees_with_the_computed_answer_answers(model: ScriptedModel) -> None:
    """The inverse question's own tool: run for the decision, it agrees (on the request's values
    and on other ones, where the request's program is moved too), and that run is the answer
    (no second run on the request's values). The floats moved are 40.0 and 160.0."""
    model.on("ground", program("answer = 40 / 160 * 100"))
    services, seen = await services_for(model, import_starters=False)
    try:
        source = "def percent_of_total(part: float, total: float) -> float:\n    return part / total * 100\n"
        cases = [TestCase(name="quarter", args={"part": 1, "total": 4}, expected=25.0)]
        verdict = await services.sandbox.verify(source, "percent_of_total", cases)
        spec = {
            "function_name": "percent_of_total",
            "description": "What percentage of a total a part is.",
            "parameters": [
                {"name": "part", "type": "float", "description": "the part"},
                {"name": "total", "type": "float", "description": "the total"},
            ],
            "return_type": "float",
        }
        services.registry.add("percent_of_total", source, "", spec, cases=cases, verdict=verdict.to_record())
        model.on("args", fit(part=40, total=160))
        outcome = await services.orchestrator.handle("What percentage of 160 is 40?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "percent_of_total" and outcome.value == 25.0
    calls = [e.args for e in seen if isinstance(e, ToolCalled)]
    assert calls == [{"part": 40, "total": 160}, {"part": 44.7, "total": 176.7}]
    assert services.registry.store.record("percent_of_total").usage_count == 1


async def test_a_missing_value_becomes_a_question(model: ScriptedModel) -> None:
    model.on("args", {**fit(from_unit="C", to_unit="F"), "missing": ["value"]})
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Convert this temperature to Fahrenheit")
    finally:
        await services.aclose()
    assert outcome.kind == "question" and outcome.tool == "convert_temperature"
    assert "value" in outcome.text and "spec" not in model.asked  # asked, not synthesised
    decisions = [e for e in seen if isinstance(e, DecisionMade)]
    assert decisions and decisions[-1].decision == "ask"


async def test_an_invented_value_is_asked_for_not_used(model: ScriptedModel) -> None:
    model.on("args", fit(value=20, from_unit="C", to_unit="F"))
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Convert this temperature to Fahrenheit")
    finally:
        await services.aclose()
    assert outcome.kind == "question" and "value" in outcome.text


async def test_a_reply_that_claims_an_extra_operation_is_replaced_by_the_template(
    model: ScriptedModel,
) -> None:
    model.on("answer", 'The reversed and uppercased string is "olleh".')
    services, _ = await services_for(model, phrase_answers=True)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert outcome.value == "olleh"
    assert outcome.text == (
        'The answer is olleh, computed by reverse_string(text="hello"): reverse the characters of a string.'
    )


async def test_a_request_worded_like_one_answered_before_needs_no_model(model: ScriptedModel) -> None:
    """The first request is decided by its computed answer (its numbers are told apart by the
    words beside them) and answered; it is learned as a template, and the same words with other
    values are then answered with no model call at all."""
    model.on("ground", program("answer = 20 / 100 * 50"))
    services, _ = await services_for(model)
    try:
        first = await services.orchestrator.handle("Give me 20 percent of 50, please")
        second = await services.orchestrator.handle("Give me 12.5 percent of 640, please")
    finally:
        await services.aclose()
    assert first.kind == "answer" and first.value == 10 and first.llm_calls == 1
    assert first.text.startswith("The answer is 10, computed by percentage_of(value=50, percent=20)")
    learned = services.registry.store.record("percentage_of").phrasings
    assert learned[-1] == "Give me {percent} percent of {value}, please"
    assert second.kind == "answer" and second.value == 80 and second.llm_calls == 0


async def test_a_number_written_into_a_learned_wording_is_part_of_it(model: ScriptedModel) -> None:
    """A tool answered "What is 15% of 240, to the nearest 5?" before, taking the 15 and the 240:
    the 5 is part of the wording it answered, not a value it leaves unused, so the same words
    with other values are its, with no model call."""
    services, _ = await services_for(model)
    try:
        services.registry.learn_phrasing(
            "percentage_of", "What is 15% of 240, to the nearest 5?", {"value": 240, "percent": 15}
        )
        again = await services.orchestrator.handle("What is 12.5% of 640, to the nearest 5?")
    finally:
        await services.aclose()
    assert again.kind == "answer" and again.tool == "percentage_of" and again.value == 80
    assert again.llm_calls == 0 and model.asked == []


async def test_numbers_named_by_the_words_beside_them_need_no_model(model: ScriptedModel) -> None:
    """ "20 percent of 50": the number beside "percent" is the percent, the other the value; the
    model works out the answer and is not asked for arguments."""
    model.on("ground", program("answer = 50 * 20 / 100"))
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("How much is 20 percent of 50?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "percentage_of" and outcome.value == 10.0
    assert "args" not in model.asked and model.asked == ["ground"]


def test_two_numbers_without_words_that_tell_them_apart_are_for_the_model() -> None:
    from tui_agent.core.flow.arguments import numbers_by_name

    assert numbers_by_name("Area of a rectangle of width 3 and height 4", ["width", "height"]) == {
        "width": 3,
        "height": 4,
    }
    assert numbers_by_name("What is 3 to the power of 5?", ["base", "exponent"]) is None
    assert numbers_by_name("Greatest common divisor of 84 and 36", ["a", "b"]) is None


def test_a_plain_reading_the_tools_example_reads_otherwise_is_for_the_model() -> None:
    """A tool made to take its percent as a fraction (its example: percent=0.15 for 15% of 300):
    "15 percent of 300" read plainly would give percent=15 and answer 4500."""
    from tui_agent.core.flow.arguments import plain_arguments

    spec = ToolSpec(
        function_name="percentage_of",
        parameters=[{"name": "value", "type": "float"}, {"name": "percent", "type": "float"}],
        return_type="float",
        examples=[{"args": {"value": 300, "percent": 0.15}, "result": 45.0}],
    )
    assert plain_arguments("calculate 15 percent of 300", spec) is None
    assert plain_arguments("calculate 20 percent of 50", spec) is None  # 20 is no fraction
    whole = spec.model_copy(update={"examples": []})
    assert plain_arguments("calculate 20 percent of 50", whole) == {"percent": 20, "value": 50}


def test_tools_match_says_what_it_would_do_and_records_no_use(isolated_env: Path) -> None:
    with ScriptedModel() as model:
        model.on("ground", program("answer = 300 * 15 / 100"), program("answer = 300 * 15 / 100"))
        model.on("args", fit(value=300, percent=15), fit(value=300, percent=15))
        env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake"}
        result = subprocess.run(
            [EXE, "tools", "match", "Find 15% of the number 300", "--json"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
        text = subprocess.run(
            [EXE, "tools", "match", "Find 15% of the number 300"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
        )
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["decision"] == "reuse" and data["tool"] == "percentage_of"
    assert data["args"] == {"value": 300, "percent": 15}
    top = data["search"]["candidates"][0]
    assert top["name"] == "percentage_of" and {"dense", "lexical", "score"} <= set(top)
    assert data["checked"][0]["fit"]["fits"] is True and data["checked"][0]["value"] == 45
    assert data["grounding"]["kind"] == "value" and data["grounding"]["value"] == 45
    assert "decision: reuse percentage_of with {'value': 300.0, 'percent': 15.0}" in text.stdout
    assert "the request works out to 45" in text.stdout
    record = json.loads((isolated_env / "tools" / "percentage_of" / "tool.json").read_text())
    assert record["usage_count"] == 0  # run to decide, never used


def test_values_a_tool_cannot_take_mean_it_does_not_fit() -> None:
    fibonacci = ToolSpec.model_validate(
        {
            "function_name": "fibonacci",
            "description": "The n-th Fibonacci number.",
            "parameters": [{"name": "n", "type": "int", "description": "the position"}],
            "return_type": "int",
        }
    )
    assert unused_values("How many days are there between 2024-01-01 and 2024-03-01?", fibonacci) == (
        "the request gives '2024-01-01', '2024-03-01', and fibonacci takes no text"
    )
    assert unused_values("What is the 10th Fibonacci number?", fibonacci) == ""
    assert unused_values("Add 3 and 4", fibonacci) == "the request gives 2 numbers and fibonacci takes 1"
    average = ToolSpec(
        function_name="average",
        parameters=[{"name": "numbers", "type": "list", "description": "the numbers"}],
        return_type="float",
    )  # a list holds any number of numbers, and still no date
    assert unused_values("How many days are there between 2024-01-01 and 2024-03-01?", average) == (
        "the request gives the date 2024-01-01, and average takes no date"
    )
    assert unused_values("What is the average of 4, 8 and 15?", average) == ""


async def test_without_a_computed_answer_only_a_strong_match_is_reused(model: ScriptedModel) -> None:
    """The model writes no program for the request: a tool that only resembles the request is not
    run on a guess; the decision says why."""
    model.on("ground", "I cannot")
    services, seen = await services_for(model)
    try:
        decision = await services.orchestrator.decide("add up the digits of 98765")
    finally:
        await services.aclose()
    assert decision.search.candidates and decision.search.candidates[0].score < decision.search.threshold
    assert decision.decision == "synthesise" and decision.tool is None and not decision.checked
    assert decision.reason.startswith("the request's answer could not be worked out apart")
    assert decision.reason.endswith("and no tool matches strongly")
    assert not [e for e in seen if isinstance(e, ToolCalled)]
