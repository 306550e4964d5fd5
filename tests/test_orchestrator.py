"""The whole query flow against the stand-in model, the real sandbox and a real library."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_llm import Reply
from tests.scripted_model import ScriptedModel, step_of
from tests.test_synthesis import CASES, GOOD, SPEC
from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import Answer, Event, QuestionAsked, SynthesisStep, ToolCalled
from tui_agent.core.flow.decision import Outcome
from tui_agent.core.services import Services, start_services

REVERSE_ARGS = {"fits": True, "missing": [], "text": "hello"}


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModel]:
    with ScriptedModel() as scripted:
        yield scripted


async def services_for(model: ScriptedModel, **overrides: object) -> tuple[Services, list[Event]]:
    """New tools run without a person's yes here (approve_new_tools = auto) unless a test asks
    otherwise: approvals have their own tests."""
    settings = load_settings(
        **{
            "llm_base_url": model.base_url,
            "llm_model": "fake-model",
            "sandbox_pool": 1,
            "approve_new_tools": "auto",
            **overrides,
        }
    )
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append, maxsize=100_000)
    return await start_services(settings, bus), seen


async def test_a_request_worded_like_a_known_phrasing_is_answered_without_the_model(
    model: ScriptedModel,
) -> None:
    """reverse_string has answered "Reverse the string '{text}'" before (a starter's phrasing): the
    same words with another value are the same computation, decided and answered with no model."""
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "reused" and outcome.tool == "reverse_string"
    assert outcome.value == "olleh" and outcome.verified
    assert (
        outcome.text
        == 'The answer is olleh, computed by reverse_string(text="hello"): reverse the characters of a string.'
    )
    assert outcome.llm_calls == 0 and model.asked == []
    assert isinstance(seen[-1], Answer) and seen[-1].value == "olleh"
    assert services.registry.store.record("reverse_string").usage_count == 1


async def test_a_reply_that_garbles_the_result_is_replaced_by_the_result(model: ScriptedModel) -> None:
    model.on("answer", "The reversed string is 'oleh'.")
    services, _ = await services_for(model, phrase_answers=True)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert model.asked == ["answer"]
    assert (
        outcome.text
        == 'The answer is olleh, computed by reverse_string(text="hello"): reverse the characters of a string.'
    )


async def test_synthesis_path_on_an_empty_library(model: ScriptedModel) -> None:
    model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
    model.on("args", {"fits": True, "missing": [], "value": 300, "percent": 15}).on(
        "answer", "15% of 300 is 45."
    )
    services, seen = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle("What is 15% of 300?")
    finally:
        await services.aclose()
    assert (outcome.kind, outcome.path, outcome.value, outcome.verified) == (
        "answer",
        "synthesised",
        45.0,
        True,
    )
    assert [s.step for s in seen if isinstance(s, SynthesisStep) and s.status == "done"][-1] == "register"
    assert services.registry.store.record("percentage_of").verified


async def test_a_tool_that_does_not_fit_falls_through_to_synthesis(model: ScriptedModel) -> None:
    """percentage_of is the closest tool, but the request also wants rounding: it is refused
    before it runs (the draft names "rounded", and a third number would go unused), and a new tool
    answers."""
    spec = {
        "function_name": "rounded_up_percentage",
        "description": "percent % of value, rounded up to a multiple of step.",
        "parameters": [
            {"name": "value", "type": "float"},
            {"name": "percent", "type": "float"},
            {"name": "step", "type": "int"},
        ],
        "return_type": "int",
        "examples": [{"args": {"value": 300, "percent": 15, "step": 10}, "result": 50}],
    }
    cases = {
        "cases": [
            {"name": "exact", "args": {"value": 200, "percent": 50, "step": 10}, "expected": 100},
            {"name": "up", "args": {"value": 100, "percent": 11, "step": 5}, "expected": 15},
            {"name": "zero", "args": {"value": 80, "percent": 0, "step": 10}, "expected": 0},
            {"name": "one", "args": {"value": 7, "percent": 100, "step": 1}, "expected": 7},
        ]
    }
    code = (
        "import math\n\ndef rounded_up_percentage(value: float, percent: float, step: int) -> int:\n"
        "    return int(math.ceil(value * percent / 100 / step) * step)\n"
    )
    model.on("ground", "```python\nimport math\nanswer = math.ceil(300 * 15 / 100 / 10) * 10\n```")
    model.on("spec", spec).on("tests", cases).code("implementation", code)
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("What is 15% of 300, rounded up to the nearest 10?")
    finally:
        await services.aclose()
    assert outcome.path == "synthesised" and outcome.tool == "rounded_up_percentage" and outcome.value == 50
    assert outcome.notes and "percentage_of did not fit" in outcome.notes[0]
    assert "gives 3 numbers and percentage_of takes 2" in outcome.notes[0]  # refused before it ran
    # the new tool's worked example is the request's own call: no argument call once it is made
    assert model.asked[model.asked.index("spec") :].count("args") == 0


async def test_a_missing_argument_becomes_a_question(model: ScriptedModel) -> None:
    model.on("args", {"missing": ["percent"], "value": 300})
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("What is some percent of 300?")
    finally:
        await services.aclose()
    assert outcome.kind == "question" and "percent" in outcome.text
    assert isinstance(seen[-1], QuestionAsked)


async def answered_with_calls(model: ScriptedModel, request: str) -> tuple[Outcome, list[dict[str, Any]]]:
    """The outcome on an empty library, and the arguments of every tool call it made."""
    services, seen = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle(request)
    finally:
        await services.aclose()
    return outcome, [e.args for e in seen if isinstance(e, ToolCalled)]


async def test_a_new_tools_arguments_come_from_its_example_when_extraction_slips(
    model: ScriptedModel,
) -> None:
    """Asked for the arguments, a small model sometimes hands over the answer (45) instead of the
    request's value (300); a tool made for this request has an example built from its values."""
    model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
    model.on("args", {"fits": True, "missing": [], "value": 45, "percent": 15}).on("answer", "It is 45.")
    outcome, calls = await answered_with_calls(model, "What is 15% of 300?")
    assert outcome.kind == "answer" and outcome.value == 45.0
    assert calls == [{"value": 300, "percent": 15}]


async def test_an_invented_value_for_an_optional_parameter_gives_way_to_its_default(
    model: ScriptedModel,
) -> None:
    spec = {
        **SPEC,
        "parameters": [
            *SPEC["parameters"],
            {"name": "digits", "type": "int", "default": 2, "required": False, "description": "rounding"},
        ],
    }
    model.on("spec", spec).on("tests", CASES).code(
        "implementation", GOOD.replace("percent: float)", "percent: float, digits: int = 2)")
    )
    model.on("args", {"fits": True, "missing": [], "value": 300, "percent": 15, "digits": 7}).on(
        "answer", "It is 45."
    )
    outcome, calls = await answered_with_calls(model, "What is 15% of 300?")
    assert outcome.kind == "answer" and outcome.value == 45.0
    assert calls == [{"value": 300, "percent": 15, "digits": 2}]


async def test_repairs_exhausted_gives_a_plain_failure(model: ScriptedModel) -> None:
    wrong = GOOD.replace("/ 100", "/ 10")
    model.on("spec", SPEC).on("tests", CASES)
    for source in (wrong, wrong.replace("/ 10", "/ 7")):  # the attempt, then the independent one
        model.code("implementation", source)
    services, seen = await services_for(model, import_starters=False, repair_attempts=0)
    try:
        outcome = await services.orchestrator.handle("What is 15% of 300?")
    finally:
        await services.aclose()
    assert outcome.kind == "failed" and outcome.value is None and not outcome.verified
    assert outcome.text.startswith("I could not make a verified tool for this request")
    assert services.registry.list() == []
    assert seen[-1].type == "request_failed"


async def test_a_timeout_during_verification_is_a_failure_not_a_hang(model: ScriptedModel) -> None:
    slow = "import time\n\ndef percentage_of(value: float, percent: float) -> float:\n    time.sleep(30)\n    return 0.0\n"
    model.on("spec", SPEC).on("tests", CASES).code("implementation", slow)
    services, seen = await services_for(model, import_starters=False, repair_attempts=0, sandbox_timeout=2)
    try:
        outcome = await asyncio.wait_for(services.orchestrator.handle("What is 15% of 300?"), timeout=60)
    finally:
        await services.aclose()
    assert outcome.kind == "failed"
    verify = [s for s in seen if isinstance(s, SynthesisStep) and s.step == "verify" and s.status == "failed"]
    assert verify and verify[0].detail.startswith("TIMEOUT")


async def test_two_requests_at_once_stay_isolated(model: ScriptedModel) -> None:
    def by_request(body: dict) -> Reply | str:
        step = step_of(body)
        model.asked.append(step)
        if step == "ground":
            word = "hello" if "hello" in json.dumps(body) else "world"
            return f"```python\nanswer = '{word}'[::-1]\n```"
        return Reply(status=500, content=f"no reply scripted for {step}")

    model.server.router = by_request
    services, seen = await services_for(model)
    try:
        first, second = await asyncio.gather(
            services.orchestrator.handle("Please reverse 'hello' for me", request_id="a"),
            services.orchestrator.handle("Please reverse 'world' for me", request_id="b"),
        )
    finally:
        await services.aclose()
    assert (first.value, second.value) == ("olleh", "dlrow")
    assert first.text.startswith("The answer is olleh") and second.text.startswith("The answer is dlrow")
    answers = {e.request_id: e.value for e in seen if isinstance(e, Answer)}
    assert answers == {"a": "olleh", "b": "dlrow"}
    # one call each (the computed answer); the quoted text is the argument, stated plainly
    assert first.llm_calls == 1 and second.llm_calls == 1


def test_cli_ask_json_ends_with_the_answer(model: ScriptedModel, tmp_path: Path) -> None:
    model.on("args", REVERSE_ARGS).on("answer", 'It is "olleh".')
    env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake-model"}
    result = subprocess.run(
        [str(Path(sys.executable).parent / "selfeng-tui"), "ask", "--json", "Reverse the string 'hello'"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[0]["type"] == "query_received"
    assert lines[-1]["type"] == "answer" and lines[-1]["value"] == "olleh" and lines[-1]["verified"] is True
    journal = list((Path(os.environ["SELFENG_HOME"]) / "journal").glob("*.jsonl"))
    assert journal and '"type": "answer"' in journal[0].read_text()


def test_cli_ask_failure_is_one_line_and_non_zero(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "SELFENG_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        "SELFENG_LLM_RETRIES": "0",
        "SELFENG_IMPORT_STARTERS": "false",
    }
    result = subprocess.run(
        [str(Path(sys.executable).parent / "selfeng-tui"), "ask", "What is 15% of 300?"],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("selfeng-tui: ") and "down or unreachable" in last
