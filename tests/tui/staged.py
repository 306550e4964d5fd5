"""A dashboard in a fixed state for screenshots: the real app and widgets, fed real event
objects with fixed times, with no engine behind it (its output would vary run to run)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from textual.pilot import Pilot

from tui_agent.app import SelfengApp
from tui_agent.core import events as ev
from tui_agent.core.config import load_settings
from tui_agent.core.tool.record import Tool, ToolRecord
from tui_agent.widgets.query_bar import QueryBar
from tui_agent.widgets.status_bar import TOKENS_EVERY_S
from tui_agent.widgets.tool_tree import ToolEntry

STARTERS = Path(__file__).resolve().parents[2] / "tui_agent" / "starter_tools"
T0 = 1_795_000_000.0  # fixed times, so the log's clock column never changes
VERDICT = {
    "passed": True,
    "reason": None,
    "detail": "",
    "counts": {"passed": 5, "failed": 0, "collected": 5},
    "output": "test_tool.py::test_example PASSED\ntest_tool.py::test_empty PASSED\n",
    "duration_s": 0.262,
    "backend": "docker",
}


def starter(name: str, uses: int = 0) -> Tool:
    folder = STARTERS / name
    meta = json.loads((folder / "tool.json").read_text())
    record = ToolRecord(
        name,
        1,
        meta["spec"],
        {},
        created="2026-11-24T00:00:00Z",
        source="starter",
        verdict=VERDICT,
        usage_count=uses,
    )
    return Tool(record, (folder / "tool.py").read_text(), (folder / "test_tool.py").read_text())


def staged_app() -> SelfengApp:
    settings = load_settings(llm_base_url="http://127.0.0.1:9/v1", llm_model="stand-in")
    return SelfengApp(settings, engine=False)


def synthesis_events() -> list[ev.Event]:
    rid = "r1"
    spec = json.loads((STARTERS / "percentage_of" / "tool.json").read_text())["spec"]
    code = (STARTERS / "percentage_of" / "tool.py").read_text()
    steps: list[Any] = [
        ev.QueryReceived(text="What is 15% of 300?"),
        ev.SearchResults(query="What is 15% of 300?", candidates=({"name": "mean_of", "score": 0.21},)),
        ev.SynthesisStep(step="spec", status="started"),
        ev.LLMCall(purpose="spec", model="stand-in", prompt_tokens=310, completion_tokens=92, latency_s=3.1),
        ev.SynthesisStep(
            step="spec", status="done", detail="percentage_of(value: float, percent: float) -> float"
        ),
        ev.CodeChunk(file="spec", text=json.dumps(spec, indent=2), replace=True),
        ev.SynthesisStep(step="tests", status="started"),
        ev.SynthesisStep(step="tests", status="done", detail="5 cases"),
        ev.SynthesisStep(step="gates", status="done", detail="5 tests fail on a stub, as they must"),
        ev.SynthesisStep(step="implementation", status="started"),
        ev.CodeChunk(file="tool.py", text=code, replace=True),
        ev.SynthesisStep(step="implementation", status="done"),
        ev.SynthesisStep(step="verify", status="failed", detail="failed: 1 of 5 tests failed"),
        ev.SynthesisStep(step="repair", status="started", attempt=2),
    ]
    return [type(e)(**{**e.__dict__, "request_id": rid, "ts": T0 + i}) for i, e in enumerate(steps)]


async def highlighted(app: SelfengApp) -> None:
    """Highlighting runs in threads: wait for it, so the picture is the settled one."""
    await app.workers.wait_for_complete([w for w in app.workers if w.group.startswith("highlight")])


async def stage_dashboard(pilot: Pilot[Any]) -> None:
    app: SelfengApp = pilot.app  # type: ignore[assignment]
    dash = app.dashboard
    dash.query_one(QueryBar).cursor_blink = False
    names = ["add_days", "convert_length", "count_words", "is_prime", "percentage_of", "reverse_string"]
    dash.library.show_tools([ToolEntry.of(starter(n, uses=i).record) for i, n in enumerate(names)])
    dash.status.set(sandbox="docker", tools=len(names), tokens=1234, llm_state="ready")
    await app.show_events(synthesis_events())
    await highlighted(app)
    await pilot.pause(TOKENS_EVERY_S + 0.1)  # the token counter repaints at most this often


async def stage_tool_view(pilot: Pilot[Any]) -> None:
    from tui_agent.screens.tool_detail import ToolScreen

    app: SelfengApp = pilot.app  # type: ignore[assignment]
    app.dashboard.query_one(QueryBar).cursor_blink = False
    screen = ToolScreen("reverse_string")
    await app.push_screen(screen)
    screen.show(starter("reverse_string", uses=3))
    await highlighted(app)
    await pilot.pause()


async def stage_help(pilot: Pilot[Any]) -> None:
    app: SelfengApp = pilot.app  # type: ignore[assignment]
    app.dashboard.query_one(QueryBar).cursor_blink = False
    app.action_help()
    await pilot.pause()
