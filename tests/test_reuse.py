"""Reuse that is right: a found tool runs only when it computes what the request asks for, a
missing value becomes a question, and an answer claims no work the tool did not do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.scripted_model import ScriptedModel
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


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModel]:
    with ScriptedModel() as scripted:
        yield scripted


def fit(**args: object) -> dict[str, object]:
    """An arguments reply."""
    return {"missing": [], **args}


def draft(name: str, returns: str) -> dict[str, object]:
    """The model's name for the function a request needs."""
    return {"function_name": name, "return_type": returns}


async def test_a_compound_request_is_not_answered_by_a_tool_doing_one_part(model: ScriptedModel) -> None:
    model.on("signature", draft("reverse_and_uppercase", "str"))
    services, seen = await services_for(model)
    try:
        decision = await services.orchestrator.decide(
            "Reverse the string 'hello' and then convert it to upper case"
        )
    finally:
        await services.aclose()
    assert decision.decision == "synthesise" and decision.tool is None
    first = decision.checked[0]
    assert first.tool == "reverse_string" and first.kind == "misfit"
    assert "the request asks for uppercase, which reverse_string does not do" in first.message
    assert "args" not in model.asked  # refused before any argument was looked for
    assert not [e for e in seen if isinstance(e, ToolCalled)]  # nothing ran


async def test_an_inverse_tool_is_refused_whatever_its_score(model: ScriptedModel) -> None:
    """The request needs fahrenheit_to_celsius, as the model names it; the library's best match is
    its inverse, which is refused without being run."""
    model.on("signature", draft("fahrenheit_to_celsius", "float"))
    services, seen = await services_for(model, import_starters=False)
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
    assert "the other direction" in refused.message and "fahrenheit_to_celsius" in refused.message
    assert "args" not in model.asked and not [e for e in seen if isinstance(e, ToolCalled)]


async def test_a_missing_value_becomes_a_question(model: ScriptedModel) -> None:
    model.on("signature", draft("celsius_to_fahrenheit", "float"))
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
    model.on("signature", draft("convert_to_fahrenheit", "float"))
    model.on("args", fit(value=20, from_unit="C", to_unit="F"))
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Convert this temperature to Fahrenheit")
    finally:
        await services.aclose()
    assert outcome.kind == "question" and "value" in outcome.text


async def test_a_yes_no_tool_cannot_answer_a_what_question(model: ScriptedModel) -> None:
    model.on("signature", draft("nth_prime", "int"))
    services, _ = await services_for(model)
    try:
        decision = await services.orchestrator.decide("What is the 7th prime number?")
    finally:
        await services.aclose()
    assert decision.decision == "synthesise"
    is_prime = next(p for p in decision.checked if p.tool == "is_prime")
    assert "answers yes or no" in is_prime.message


async def test_a_reply_that_claims_an_extra_operation_is_replaced_by_the_template(
    model: ScriptedModel,
) -> None:
    model.on("signature", draft("reverse_text", "str"))
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
    """The first request is decided with the model's draft (its numbers are told apart by the
    words beside them) and answered; it is learned as a template, and the same words with other
    values are then answered with no model call at all."""
    model.on("signature", draft("percentage_of_value", "float"))
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


async def test_numbers_named_by_the_words_beside_them_need_no_model(model: ScriptedModel) -> None:
    """ "20 percent of 50": the number beside "percent" is the percent, the other the value; the
    model drafts the signature and is not asked for arguments."""
    model.on("signature", draft("percentage_of", "float"))
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("How much is 20 percent of 50?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "percentage_of" and outcome.value == 10.0
    assert "args" not in model.asked and model.asked == ["signature"]


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


def test_tools_match_says_what_it_would_do_and_runs_nothing(isolated_env: Path) -> None:
    with ScriptedModel() as model:
        model.on("signature", draft("percentage", "float"), draft("percentage", "float"))
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
    assert data["checked"][0]["fit"]["fits"] is True and data["draft"] == "percentage"
    assert "decision: reuse percentage_of with {'value': 300.0, 'percent': 15.0}" in text.stdout
    assert "the request needs, as the model names it: percentage" in text.stdout
    record = json.loads((isolated_env / "tools" / "percentage_of" / "tool.json").read_text())
    assert record["usage_count"] == 0  # nothing ran


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


def _tool(
    name: str, description: str, returns: str, params: list[tuple[str, str, str]], docstring: str = ""
) -> ToolSpec:
    """A tool's spec as the fit check sees it: parameters as (name, type, description)."""
    return ToolSpec(
        function_name=name,
        description=description,
        parameters=[{"name": n, "type": t, "description": d} for n, t, d in params],
        return_type=returns,
        docstring=docstring,
    )


CIRCLE = _tool(
    "circle_area",
    "The area of a circle of a given radius.",
    "float",
    [("radius", "float", "the radius")],
    "Return pi * radius ** 2.",
)
SNAKE = _tool(
    "snake_case",
    "Convert a phrase to snake_case.",
    "str",
    [("text", "str", "the phrase")],
    "Return the words of text in lower case joined by underscores.",
)
REVERSE = _tool(
    "reverse_string", "Reverse the characters of a string.", "str", [("text", "str", "the string to reverse")]
)
KM_TO_MILES = _tool(
    "kilometers_to_miles",
    "Convert a distance in kilometers to miles.",
    "float",
    [("kilometers", "float", "the distance")],
)
GCD = _tool(
    "greatest_common_divisor",
    "The greatest common divisor of two numbers.",
    "int",
    [("a", "int", ""), ("b", "int", "")],
)
AVERAGE = _tool(
    "average_of", "The average of a list of numbers.", "float", [("numbers", "list", "the numbers")]
)
LENGTH = _tool(
    "convert_length",
    "Convert a length between metric and imperial units.",
    "float",
    [("value", "float", "the length"), ("from_unit", "str", ""), ("to_unit", "str", "")],
)
UPPER = _tool("to_upper_case", "Convert the given string to upper case.", "str", [("text", "str", "")])
OCCURRENCES = _tool(
    "count_occurrences",
    "How often a substring occurs in a text.",
    "int",
    [("text", "str", ""), ("sub", "str", "")],
)
VOWELS = _tool(
    "count_vowels",
    "Count the vowels in a text.",
    "int",
    [("text", "str", "")],
    "Return how many letters are vowels.",
)


@pytest.mark.parametrize(
    ("spec", "request_text", "drafted", "why"),
    [
        # a synonym or an abbreviation of what the tool computes is what it computes
        (GCD, "gcd of 48 and 18", "gcd", ""),
        (AVERAGE, "mean of 4 8 15 16 23 42", "mean", ""),
        (UPPER, "make 'hello world' all caps", "make_all_caps", ""),
        # ... but a word of another sense is not, however close the tool's name
        (GCD, "What is the least common multiple of 4 and 6?", "least_common_multiple", "asks for least"),
        (AVERAGE, "middle value of 7 1 3 9 50", "middle_value", "asks for middle"),
        (UPPER, "make 'Hello World' lower case", "make_lower_case", "asks for lower"),
        (UPPER, "Capitalize 'hello world'", "capitalize_words", "asks for capitalize"),
        (GCD, "the largest of 4 and 17", "largest_of", "asks for largest"),
        (CIRCLE, "Area of a circle whose diameter is 10 cm", "circle_area", "gives a diameter"),
        (CIRCLE, "Area of a circle whose radius is 10 cm", "circle_area", ""),
        (SNAKE, "Convert 'hello world' to lower case", "to_lower_case", "asks for lower"),
        (SNAKE, "Convert 'Hello World Again' to snake case", "to_snake_case", ""),
        (REVERSE, "Reverse the word 'terminal'", "reverse_word", ""),  # a word is the string it reverses
        (REVERSE, "How many words are in 'to be or not'?", "count_words", "asks for words"),
        (KM_TO_MILES, "how many miles is 5 km", "km_to_miles", ""),  # km abbreviates kilometers
        # what a request counts is what the tool must count, whatever the draft is called
        (
            VOWELS,
            "How many characters are in 'supercalifragilistic'?",
            "get_string_length",
            "counts characters",
        ),
        (VOWELS, "How many vowels does 'onomatopoeia' have?", "get_vowel_count", ""),
        (OCCURRENCES, "How many times does 'a' appear in 'banana'?", "count_occurrences", ""),
        (KM_TO_MILES, "how many miles is 5 km, rounded", "rounded_km_to_miles", "asks for rounded"),
        # initials are of one phrase's own words: "between metric and imperial" is no BMI
        (
            LENGTH,
            "What is the BMI of a person who weighs 70 kg and is 1.75 m tall?",
            "calculate_bmi",
            "asks for bmi",
        ),
        (GCD, "the GCD of 48 and 18", "find_gcd", ""),
    ],
)
def test_a_tool_is_held_to_what_the_request_names(
    spec: ToolSpec, request_text: str, drafted: str, why: str
) -> None:
    """A value named as something the tool does not take, or an operation the tool only uses as
    a step (snake_case lower-cases on the way), is not the tool's job."""
    from tui_agent.core.flow.fit import RequestSignature, draft_vetoes

    vetoes = draft_vetoes(
        RequestSignature(function_name=drafted, return_type=spec.return_type), spec, [], request_text
    )
    assert (why in " ".join(vetoes)) if why else vetoes == []


async def test_without_a_draft_only_a_strong_match_is_reused(model: ScriptedModel) -> None:
    """The model cannot say what function the request needs (no usable reply): a tool that only
    resembles the request is not run on a guess; the decision says why."""
    model.on("signature", "I cannot", "I cannot", "I cannot")
    services, seen = await services_for(model)
    try:
        decision = await services.orchestrator.decide("add up the digits of 98765")
    finally:
        await services.aclose()
    assert decision.search.candidates and decision.search.candidates[0].score < decision.search.threshold
    assert decision.decision == "synthesise" and decision.tool is None and not decision.checked
    assert decision.reason == "the model could not draft the function needed, and no tool matches strongly"
    assert not [e for e in seen if isinstance(e, ToolCalled)]
