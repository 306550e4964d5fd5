"""Every request ends with exactly one final event, whatever raises inside and whatever the text:
the dashboard goes back to idle and `ask --json` always has a last line."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.fake_llm import Reply
from tests.scripted_model import ScriptedModel
from tests.test_orchestrator import services_for
from tests.test_synthesis import CASES, GOOD, SPEC
from tui_agent.core.events import Event
from tui_agent.core.library.index import SearchResult

FINAL = {"answer", "question", "request_failed"}


REVERSE_SPEC = {
    "function_name": "reverse_string",
    "description": "Reverse a text.",
    "parameters": [{"name": "text", "type": "str", "description": "the text"}],
    "return_type": "str",
    "examples": [{"args": {"text": "hello"}, "result": "olleh"}],
}


def nothing_found(query: str, k: int = 5) -> SearchResult:
    """A search that misses every tool, as a poorly worded request does."""
    return SearchResult(query, (), 0.9, 0.5)


def finals(seen: list[Event], rid: str) -> list[Event]:
    return [e for e in seen if e.request_id == rid and e.type in FINAL]


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModel]:
    with ScriptedModel() as scripted:
        yield scripted


def breaks(target: Any, name: str, error: Exception) -> None:
    """Make ``target.name`` raise ``error`` (an engine part failing for a reason that is not the model)."""

    async def broken_async(*_a: Any, **_k: Any) -> Any:
        raise error

    def broken(*_a: Any, **_k: Any) -> Any:
        raise error

    original = getattr(target, name)
    import inspect

    setattr(target, name, broken_async if inspect.iscoroutinefunction(original) else broken)


STAGES = {
    # stage -> (how to break it, words the failure must name)
    "search": (
        lambda s: breaks(s.registry, "search", OSError("index file vanished")),
        "searching the library",
    ),
    "reuse": (
        lambda s: breaks(s.orchestrator.executor, "prepare", KeyError("text")),
        "checking reverse_string",
    ),
    "sandbox": (
        lambda s: breaks(s.sandbox, "call", RuntimeError("docker daemon went away")),
        "running reverse_string",
    ),
    "answer": (
        lambda s: breaks(s.orchestrator.responder, "answer", ValueError("bad value")),
        "wording the answer",
    ),
    "synthesis": (lambda s: breaks(s.engine, "synthesize", TypeError("spec exploded")), "making a new tool"),
    "tool removed": (
        lambda s: breaks(s.registry, "get", FileNotFoundError("tool.json")),
        "searching the library",
    ),
}


@pytest.mark.parametrize("stage", list(STAGES))
async def test_a_non_llm_exception_at_each_stage_ends_the_request_once(
    model: ScriptedModel, stage: str
) -> None:
    model.on("ground", "```python\nanswer = 'hello'[::-1]\n```")
    model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
    services, seen = await services_for(model)
    break_it, words = STAGES[stage]
    break_it(services)
    try:
        request = "Please reverse 'hello' for me" if stage != "synthesis" else "What is the cube root of 27?"
        outcome = await services.orchestrator.handle(request, request_id="r1")
        await services.bus.drain()
    finally:
        await services.aclose()
    ended = finals(seen, "r1")
    assert len(ended) == 1 and ended[0].type == "request_failed"
    assert outcome.kind == "failed" and words in outcome.text
    assert "\n" not in outcome.text


UNUSUAL = [
    "",
    "   ",
    "'",
    '"""',
    "What is 15% of '300?",
    "def f(x):\n    return x\n",
    "import os; os.system('rm -rf /')",
    "x" * 10_000,
    "\x00\x01\x02 control characters \x1b[31m red",
    '{"function": "percentage_of", "args": {"value": 300}}',
    "[1, 2, 3]",
    "{{{{",
    "🙂🙃 what is 2 + 2? 🙂",
    "SELECT * FROM tools; --",
    "\\",
    "reverse the string '\\u0000'",
    "percentage_of(value=300, percent=15)",
    "What is 1e309 percent of 300?",
    "-" * 500,
    "\n\n\n",
]


async def test_unusual_request_texts_each_end_once(model: ScriptedModel) -> None:
    """The stand-in model answers every call with something useless (or nothing), as a confused
    model would; each text still ends with exactly one final event."""
    for _ in range(200):
        model.on("args", Reply(content="not json at all"))
        model.on("spec", Reply(status=500, content="no"))
        model.on("answer", "")
    services, seen = await services_for(model)
    try:
        assert len(UNUSUAL) == 20
        for i, text in enumerate(UNUSUAL):
            await services.orchestrator.handle(text, request_id=f"u{i}")
        await services.bus.drain()
    finally:
        await services.aclose()
    for i, text in enumerate(UNUSUAL):
        assert len(finals(seen, f"u{i}")) == 1, repr(text[:40])


async def test_a_spec_parameter_that_clashes_with_the_argument_model_is_renamed(model: ScriptedModel) -> None:
    clashing = {
        **SPEC,
        "parameters": [
            {"name": "_value", "type": "float", "description": "the whole"},
            {"name": "model_config", "type": "float", "description": "the percentage"},
        ],
        "examples": [{"args": {"_value": 300, "model_config": 15}, "result": 45.0}],
    }
    renamed_cases = {
        "cases": [
            {
                "name": c["name"],
                "args": {"value": c["args"]["value"], "model_config_value": c["args"]["percent"]},
                "expected": c["expected"],
            }
            for c in CASES["cases"]
        ]
    }
    code = "def percentage_of(value: float, model_config_value: float) -> float:\n    return value * model_config_value / 100\n"
    model.on("spec", clashing).on("tests", renamed_cases).code("implementation", code)
    model.on("args", {"missing": [], "value": 300, "model_config_value": 15})
    services, _ = await services_for(model, import_starters=False)
    try:
        outcome = await services.orchestrator.handle("What is 15% of 300?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.value == 45, outcome.text
    record = services.registry.store.record("percentage_of")
    assert [p["name"] for p in record.spec["parameters"]] == ["value", "model_config_value"]


async def test_a_drafted_name_in_use_is_tried_first_and_never_replaced(model: ScriptedModel) -> None:
    """The request misses the starter in search, the spec is drafted under the starter's name:
    the starter is tried, serves, and stays as it was (v1, approved)."""
    model.on("spec", REVERSE_SPEC)
    services, _ = await services_for(model)
    services.registry.search = nothing_found  # type: ignore[method-assign]
    services.registry.lexical_names = lambda query, k=5: []  # type: ignore[method-assign]
    try:
        outcome = await services.orchestrator.handle("Flip 'hello' around")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "reverse_string" and outcome.value == "olleh"
    record = services.registry.store.record("reverse_string")
    assert record.version == 1 and record.approved and record.source == "starter"
    assert "implementation" not in model.asked


@pytest.mark.parametrize("written_as", ["reverse_string_2", "reverse_string"])
async def test_a_drafted_name_in_use_that_does_not_serve_gets_a_free_name(
    model: ScriptedModel, written_as: str
) -> None:
    """The model may write the function under the name it drafted, not the free one it was given."""
    model.on("spec", {**SPEC, "function_name": "reverse_string"}).on("tests", CASES)
    model.code("implementation", GOOD.replace("percentage_of", written_as))
    model.on("args", {"missing": [], "value": 300, "percent": 15})
    services, _ = await services_for(model)
    services.registry.search = nothing_found  # type: ignore[method-assign]
    services.registry.lexical_names = lambda query, k=5: []  # type: ignore[method-assign]
    try:
        outcome = await services.orchestrator.handle("What is 15% of 300?")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "reverse_string_2" and outcome.value == 45
    assert services.registry.store.record("reverse_string").version == 1
    assert services.registry.store.record("reverse_string_2").version == 1
    assert "def reverse_string_2(" in services.registry.store.load("reverse_string_2").tool_source
