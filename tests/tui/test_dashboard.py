"""Every dashboard flow, driven by keys against the stand-in model and the real sandbox."""

from __future__ import annotations

import json

from tests.fake_llm import Reply
from tests.scripted_model import ScriptedModel
from tests.synthesis_support import CASES, GOOD, PARTLY_RIGHT_APART, SPEC, WRONG
from tests.tui.conftest import ask, log_text, make_app, running, until
from tui_agent.core.sandbox.docker_backend import OWNER_LABEL, owner_tag
from tui_agent.screens.confirm import ConfirmScreen
from tui_agent.screens.help import HelpScreen
from tui_agent.screens.tool_detail import ToolScreen
from tui_agent.widgets.query_bar import QueryBar

WORKED_OUT = "```python\nanswer = 'hello'[::-1]\n```"


async def test_a_request_is_answered_on_screen() -> None:
    with ScriptedModel() as model:
        model.on("ground", WORKED_OUT)
        app = make_app(model.base_url)
        async with running(app) as pilot:
            dash = app.dashboard
            assert dash.status.sandbox in ("docker", "bwrap") and dash.status.tools == 11
            await ask(pilot, app, "Please reverse 'hello' for me")
            await until(pilot, lambda: dash.answer.kind == "answer", what="the answer")
            assert "olleh" in dash.answer.text
            log = log_text(app)
            assert "❯ Please reverse 'hello' for me" in log and "reusing reverse_string" in log
            assert "◆ reuse reverse_string: reverse_string gives 'olleh', as the request works out to" in log
            assert 'reverse_string(text="hello") = "olleh"' in log
            assert dash.status.tokens > 0 and dash.status.busy == 0
            await until(
                pilot, lambda: any(e.name == "reverse_string" and e.uses == 1 for e in dash.library.entries)
            )
            assert dash.query_one(QueryBar).history[-1] == "Please reverse 'hello' for me"


async def test_a_synthesis_ticks_through_its_steps_and_streams_its_code() -> None:
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", WRONG)
        # the second opinion confirms the tests without passing them all, so the code is repaired
        model.code("independent", PARTLY_RIGHT_APART).code("implementation", GOOD)
        model.on("args", {"fits": True, "missing": [], "value": 300, "percent": 15}).on(
            "answer", "15% of 300 is 45."
        )
        app = make_app(model.base_url, import_starters=False, repair_attempts=2)
        async with running(app) as pilot:
            dash = app.dashboard
            seen: list[tuple[str, str, int]] = []
            apply = dash.steps.apply

            def spy(event):  # type: ignore[no-untyped-def]
                apply(event)
                seen.append((event.step, event.status, dash.steps.attempt))

            dash.steps.apply = spy  # type: ignore[method-assign]
            await ask(pilot, app, "What is 15% of 300?")
            await until(pilot, lambda: dash.answer.kind == "answer", what="the answer")
            assert "45" in dash.answer.text
            done = [step for step, status, _ in seen if status == "done"]
            assert done == ["spec", "tests", "gates", "implementation", "repair", "verify", "register"]
            assert ("verify", "failed", 1) in seen and ("repair", "started", 2) in seen
            assert all(
                dash.steps.state_of(key) == "done"
                for key in ("spec", "tests", "gates", "implementation", "verify", "register")
            )
            assert "(attempt 2)" in str(dash.steps.render())
            assert dash.viewer.pane("tool.py").text.strip() == GOOD.strip()
            assert "from tool import percentage_of" in dash.viewer.pane("test_tool.py").text
            assert json.loads(dash.viewer.pane("spec").text)["function_name"] == "percentage_of"
            await until(pilot, lambda: [e.name for e in dash.library.entries] == ["percentage_of"])


async def test_open_a_tool_rerun_its_tests_and_remove_it() -> None:
    with ScriptedModel() as model:
        app = make_app(model.base_url)
        async with running(app) as pilot:
            dash = app.dashboard
            await pilot.press("escape")  # leave the query box for the library
            await pilot.press(*"reverse")
            assert [e.name for e in dash.library.entries if e.matches("reverse")] == ["reverse_string"]
            await pilot.press("enter")  # the filter hands focus to the tree
            await pilot.press("enter")
            await until(pilot, lambda: isinstance(app.screen, ToolScreen))
            screen = app.screen
            assert isinstance(screen, ToolScreen)
            await until(pilot, lambda: "def reverse_string" in screen.viewer.pane("tool.py").text)
            assert "def test_" in screen.viewer.pane("test_tool.py").text
            assert "PASSED" in screen.viewer.pane("verification").text

            lines: list[str] = []
            add_output = screen.viewer.add_output
            screen.viewer.add_output = lambda line: (lines.append(line), add_output(line))  # type: ignore[method-assign]
            await pilot.press("t")
            await until(
                pilot,
                lambda: screen.viewer.pane("verification").text.startswith("PASSED"),
                what="the verdict",
            )
            assert lines, "no test output streamed while the tests ran"
            assert screen.viewer.active == "tab-verify"

            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("n")
            await until(pilot, lambda: isinstance(app.screen, ToolScreen))
            assert app.services.registry.store.exists("reverse_string")
            await pilot.press("d")
            await until(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            await pilot.press("y")
            await until(
                pilot, lambda: not app.services.registry.store.exists("reverse_string"), what="removal"
            )
            await until(pilot, lambda: app.screen is dash)
            await until(pilot, lambda: "reverse_string" not in [e.name for e in dash.library.entries])
            assert dash.status.tools == 10


async def test_a_running_request_can_be_cancelled_and_the_next_one_still_works() -> None:
    with ScriptedModel() as model:
        model.on("ground", Reply(hang=True), WORKED_OUT)
        app = make_app(model.base_url)
        async with running(app) as pilot:
            dash = app.dashboard
            await ask(pilot, app, "Please reverse 'hello' for me")
            await until(pilot, lambda: "ground" in model.asked, what="the model to be asked")
            assert dash.status.busy == 1
            await pilot.press("escape", "c")
            await until(pilot, lambda: dash.answer.kind == "failed", what="the cancellation")
            assert dash.answer.text == "cancelled" and dash.status.busy == 0
            await ask(pilot, app, "Please reverse 'hello' for me")
            await until(pilot, lambda: dash.answer.kind == "answer", what="the next answer")
            assert "olleh" in dash.answer.text


async def test_an_llm_endpoint_that_is_down_is_a_notification_not_a_crash(unused_tcp_port: int) -> None:
    app = make_app(f"http://127.0.0.1:{unused_tcp_port}/v1", llm_retries=0)
    async with running(app) as pilot:
        dash = app.dashboard
        await until(pilot, lambda: dash.status.llm_state == "unreachable", what="the endpoint check")
        assert any("down or unreachable" in n.message for n in app._notifications)
        await ask(pilot, app, "What is the cube root of 27?")
        await until(pilot, lambda: dash.answer.kind == "failed", what="the failure")
        assert "down or unreachable" in dash.answer.text
        await pilot.press("escape", "question_mark")
        await until(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.press("escape")
        assert app.screen is dash and dash.status.tools == 11


async def test_help_palette_history_and_resize() -> None:
    with ScriptedModel() as model:
        app = make_app(model.base_url)
        async with running(app, size=(80, 24)) as pilot:
            dash = app.dashboard
            bar = dash.query_one(QueryBar)
            for text in ("first question", "second question"):
                bar.remember(text)
            await pilot.press("up")
            assert bar.value == "second question"
            await pilot.press("up", "up")
            assert bar.value == "first question"
            await pilot.press("down", "down")
            assert bar.value == ""

            await pilot.press("escape", "f1")
            await until(pilot, lambda: isinstance(app.screen, HelpScreen))
            keys = dict(app.screen.keys)  # type: ignore[attr-defined]
            assert {"t", "d", "c", "q", "/"} <= set(keys)
            await pilot.press("escape")

            await pilot.press("ctrl+p")
            await pilot.press(*"open count_words")
            await pilot.pause(0.5)
            await pilot.press("enter")
            await until(
                pilot, lambda: isinstance(app.screen, ToolScreen), what="the palette to open the tool"
            )
            assert app.screen.tool_name == "count_words"  # type: ignore[attr-defined]
            await pilot.press("escape")

            for size in ((60, 18), (160, 50), (80, 24)):
                await pilot.resize_terminal(*size)
                await pilot.pause(0.1)
                assert dash.log_view.size.height > 0 and dash.viewer.size.height > 0


async def test_quit_stops_the_engine_and_leaves_no_containers() -> None:
    import docker

    with ScriptedModel() as model:
        app = make_app(model.base_url, sandbox="docker")
        async with app.run_test() as pilot:
            await until(pilot, lambda: app.services is not None, what="the engine")
            await pilot.press("escape", "q")
            await until(pilot, lambda: app._engine_stopped, what="shutdown")
        assert app.return_code == 0
    mine = docker.from_env().containers.list(all=True, filters={"label": f"{OWNER_LABEL}={owner_tag()}"})
    assert mine == []
