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
from tui_agent.core.flow.orchestrator import Outcome
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


async def test_reuse_path_answers_from_a_verified_tool_in_two_calls(model: ScriptedModel) -> None:
    model.on("args", REVERSE_ARGS).on("answer", 'Reversed, "hello" is "olleh".')
    services, seen = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.path == "reused" and outcome.tool == "reverse_string"
    assert outcome.value == "olleh" and outcome.verified
    assert outcome.text == 'Reversed, "hello" is "olleh".'
    assert outcome.llm_calls == 2
    assert isinstance(seen[-1], Answer) and seen[-1].value == "olleh"
    assert services.registry.store.record("reverse_string").usage_count == 1


async def test_a_reply_that_garbles_the_result_is_replaced_by_the_result(model: ScriptedModel) -> None:
    model.on("args", REVERSE_ARGS).on("answer", "The reversed string is 'oleh'.")
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert outcome.text == 'The answer is olleh (computed by reverse_string(text="hello")).'


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


@pytest.mark.parametrize(
    "verdict_on_the_near_tool",
    [
        {"fits": False, "missing": []},
        # the model "confirms" the near tool but has to invent a value the request never gives
        {"fits": True, "missing": [], "value": 300, "percent": 100},
    ],
    ids=["model-says-no", "invented-argument"],
)
async def test_a_tool_that_does_not_fit_falls_through_to_synthesis(
    model: ScriptedModel, verdict_on_the_near_tool: dict
) -> None:
    # "what percentage is 45 of 300" is close to percentage_of, which cannot answer it
    spec = {
        "function_name": "percent_ratio",
        "description": "What percentage part is of whole.",
        "parameters": [{"name": "part", "type": "float"}, {"name": "whole", "type": "float"}],
        "return_type": "float",
        "examples": [{"args": {"part": 45, "whole": 300}, "result": 15.0}],
    }
    cases = {
        "cases": [
            {"name": "half", "args": {"part": 1, "whole": 2}, "expected": 50.0},
            {"name": "all", "args": {"part": 5, "whole": 5}, "expected": 100.0},
            {"name": "none", "args": {"part": 0, "whole": 5}, "expected": 0.0},
            {"name": "zero_whole", "args": {"part": 1, "whole": 0}, "raises": "ZeroDivisionError"},
        ]
    }
    code = "def percent_ratio(part: float, whole: float) -> float:\n    return part / whole * 100\n"
    model.on("args", verdict_on_the_near_tool, {"fits": True, "missing": [], "part": 45, "whole": 300})
    model.on("spec", spec).on("tests", cases).code("implementation", code).on("answer", "45 is 15% of 300.")
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("what percentage is 45 of 300")
    finally:
        await services.aclose()
    assert outcome.path == "synthesised" and outcome.tool == "percent_ratio" and outcome.value == 15.0
    assert outcome.notes and "percentage_of did not fit" in outcome.notes[0]
    assert model.asked.count("args") == 2  # no retry loop on the wrong tool


async def test_a_missing_argument_becomes_a_question(model: ScriptedModel) -> None:
    model.on("args", {"fits": True, "missing": ["percent"], "value": 300})
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
        request = body["messages"][-1]["content"].split("Request:")[-1].split("\n")[0]
        word = "hello" if "hello" in request else "world"
        step = step_of(body)
        if step == "args":
            return json.dumps({**REVERSE_ARGS, "text": word})
        if step == "answer":
            return f"It is {word[::-1]}."
        return model.route(body)

    model.server.router = by_request
    services, seen = await services_for(model)
    try:
        first, second = await asyncio.gather(
            services.orchestrator.handle("Reverse the string 'hello'", request_id="a"),
            services.orchestrator.handle("Reverse the string 'world'", request_id="b"),
        )
    finally:
        await services.aclose()
    assert (first.value, second.value) == ("olleh", "dlrow")
    assert (first.text, second.text) == ("It is olleh.", "It is dlrow.")
    answers = {e.request_id: e.value for e in seen if isinstance(e, Answer)}
    assert answers == {"a": "olleh", "b": "dlrow"}
    assert first.llm_calls == 2 and second.llm_calls == 2


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
