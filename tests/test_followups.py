"""Follow-ups: a request that refers to the last exchange is rewritten to stand alone, shown, and
answered; ``ask --continue`` in a second process follows the first. Stand-in model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripted_model import ScriptedModel
from tests.test_orchestrator import services_for
from tui_agent.core.events import FollowUpRewritten
from tui_agent.core.flow.session import Exchange, Session

EXE = str(Path(sys.executable).parent / "selfeng-tui")


async def test_a_follow_up_is_rewritten_shown_and_answered(model: ScriptedModel) -> None:
    model.on("followup", "Convert 26.2 miles to kilometers")
    services, seen = await services_for(model)
    session = Session()
    try:
        first = await services.orchestrator.handle("Convert 10 miles to kilometers", session=session)
        second = await services.orchestrator.handle("and 26.2?", session=session)
    finally:
        await services.aclose()
    assert first.value == pytest.approx(16.09344) and model.asked == ["followup"]
    assert second.kind == "answer" and second.value == pytest.approx(42.1648128)
    shown = [e for e in seen if isinstance(e, FollowUpRewritten)]
    assert [(e.original, e.rewritten) for e in shown] == [("and 26.2?", "Convert 26.2 miles to kilometers")]
    assert [e.request for e in session.recent()] == [
        "Convert 10 miles to kilometers",
        "Convert 26.2 miles to kilometers",
    ]
    prompt = next(said for step, said in model.prompts if step == "followup")
    assert "Previous request: Convert 10 miles to kilometers" in prompt and "16.09344" in prompt


async def test_a_request_that_stands_alone_is_left_as_it_is(model: ScriptedModel) -> None:
    model.on("followup", "Reverse the string 'hello'")
    services, seen = await services_for(model)
    session = Session()
    session.add(Exchange("Convert 10 miles to kilometers", "16.09344", 16.09344))
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'", session=session)
    finally:
        await services.aclose()
    assert outcome.value == "olleh" and not [e for e in seen if isinstance(e, FollowUpRewritten)]


def test_a_session_is_kept_and_a_broken_one_is_empty(tmp_path: Path) -> None:
    kept = tmp_path / "session.json"
    session = Session(kept, keep=2)
    for n in range(3):
        session.add(Exchange(f"request {n}", f"answer {n}", n))
    assert [e.value for e in Session.resumed(kept).recent()] == [1, 2]
    kept.write_text("{not json")
    assert Session.resumed(kept).recent() == []


def test_ask_continue_follows_the_last_ask_in_another_process(model: ScriptedModel) -> None:
    model.on("followup", "Convert 26.2 miles to kilometers")
    env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake-model"}
    first = subprocess.run(
        [EXE, "ask", "Convert 10 miles to kilometers"], capture_output=True, text=True, env=env, timeout=300
    )
    assert first.returncode == 0, first.stderr
    second = subprocess.run(
        [EXE, "ask", "--continue", "--json", "and 26.2?"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert second.returncode == 0, second.stderr
    events = [json.loads(line) for line in second.stdout.splitlines()]
    follow = next(e for e in events if e["type"] == "follow_up")
    assert follow["rewritten"] == "Convert 26.2 miles to kilometers"
    assert events[-1]["type"] == "answer" and events[-1]["value"] == pytest.approx(42.1648128)
    alone = subprocess.run(
        [EXE, "ask", "--json", "and 26.2?"], capture_output=True, text=True, env=env, timeout=300
    )
    assert not any(json.loads(line)["type"] == "follow_up" for line in alone.stdout.splitlines())
