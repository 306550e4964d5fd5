"""approve_new_tools = ask: a new tool shows its code, tests and verdict in a modal and runs only
after a yes; headless, `ask` refuses it unless given --yes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.scripted_model import ScriptedModel
from tests.test_synthesis import CASES, GOOD, SPEC
from tests.tui.conftest import ask, log_text, make_app, running, until
from tui_agent.screens.approval import ApprovalScreen
from tui_agent.widgets.code_viewer import CodeViewer

ARGS = {"fits": True, "missing": [], "value": 300, "percent": 15}


def scripted(model: ScriptedModel) -> None:
    model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)


async def test_approving_runs_the_new_tool() -> None:
    with ScriptedModel() as model:
        scripted(model)
        model.on("args", ARGS).on("answer", "15% of 300 is 45.")
        app = make_app(model.base_url, import_starters=False, approve_new_tools="ask")
        async with running(app) as pilot:
            await ask(pilot, app, "What is 15% of 300?")
            await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval modal")
            await pilot.pause()  # composed and mounted
            question = str(app.screen.query_one("#approval-question").render())
            assert "percentage_of v1 is new: 5/5 tests passed" in question
            viewer = app.screen.query_one("#approval-viewer", CodeViewer)
            assert "def percentage_of" in viewer.pane("tool.py").text
            assert "from tool import percentage_of" in viewer.pane("test_tool.py").text
            assert "passed" in viewer.pane("verification").text
            assert "args" not in model.asked  # nothing extracted or run yet
            await pilot.press("y")
            await until(pilot, lambda: app.dashboard.answer.kind == "answer", what="the answer")
            assert "45" in app.dashboard.answer.text
            assert app.services is not None and app.services.registry.get("percentage_of").record.approved
            assert "percentage_of approved to run" in log_text(app)


async def test_declining_does_not_run_it() -> None:
    with ScriptedModel() as model:
        scripted(model)
        app = make_app(model.base_url, import_starters=False, approve_new_tools="ask")
        async with running(app) as pilot:
            await ask(pilot, app, "What is 15% of 300?")
            await until(pilot, lambda: isinstance(app.screen, ApprovalScreen), what="the approval modal")
            await pilot.press("n")
            await until(pilot, lambda: app.dashboard.answer.kind == "failed", what="the refusal")
            assert "declined to run percentage_of" in app.dashboard.answer.text
            assert "args" not in model.asked  # no arguments extracted, nothing called
            assert "▶ percentage_of(" not in log_text(app)
            assert app.services is not None
            assert not app.services.registry.get("percentage_of").record.approved  # kept, unapproved
            library = app.dashboard.library
            await until(pilot, lambda: [e.approved for e in library.entries] == [False], what="the library")
            assert "not approved" in str(library.tool_tree.root.children[0].label)


def test_headless_ask_refuses_a_new_tool_unless_given_yes(tmp_path: Path) -> None:
    exe = str(Path(sys.executable).parent / "selfeng-tui")
    with ScriptedModel() as model:
        scripted(model)
        model.on("args", ARGS).on("answer", "15% of 300 is 45.")
        env = {
            **os.environ,
            "SELFENG_LLM_BASE_URL": model.base_url,
            "SELFENG_LLM_MODEL": "fake-model",
            "SELFENG_IMPORT_STARTERS": "false",
            "SELFENG_SANDBOX_POOL": "0",
        }
        refused = subprocess.run(
            [exe, "ask", "What is 15% of 300?"], capture_output=True, text=True, env=env, timeout=300
        )
        assert refused.returncode == 1 and refused.stdout == ""
        last = refused.stderr.strip().splitlines()[-1]
        assert "percentage_of is new and has not been approved" in last and "--yes" in last
        assert "args" not in model.asked

        allowed = subprocess.run(
            [exe, "ask", "--yes", "What is 15% of 300?"], capture_output=True, text=True, env=env, timeout=300
        )
        assert allowed.returncode == 0, allowed.stderr
        assert "45" in allowed.stdout
        assert model.asked.count("spec") == 1  # the second run reused the tool made by the first
