"""Learning and copying from the dashboard: the f key corrects an answer through a form and the
request is answered again by the new version; y and k copy the answer and the code (OSC 52)."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel
from tests.tui.conftest import ask, make_app, running, until
from tui_agent.core.tool.cases import TestCase, render_tests
from tui_agent.screens.correction import CorrectionScreen

DRAFT = {"function_name": "reverse_text", "return_type": "str"}
# what reverse_string might have been made as: it drops the last letter
OFF_BY_ONE = (
    "def reverse_string(text: str) -> str:\n    return text[::-1][:-1] if len(text) > 5 else text[::-1]\n"
)
GOOD = "def reverse_string(text: str) -> str:\n    return text[::-1]\n"


async def test_the_fix_key_corrects_an_answer_and_the_request_is_answered_again() -> None:
    with ScriptedModel() as model:
        model.code("implementation", GOOD)
        app = make_app(model.base_url)
        async with running(app) as pilot:
            services, dash = app.services, app.dashboard
            tool = services.registry.get("reverse_string")
            short = [TestCase(name="short", args={"text": "abc"}, expected="cba")]  # all it gets right
            verdict = await services.sandbox.verify(OFF_BY_ONE, "reverse_string", short)
            assert verdict.passed
            services.registry.add(
                "reverse_string",
                OFF_BY_ONE,
                render_tests("reverse_string", short),
                tool.record.spec,
                cases=short,
                verdict=verdict.to_record(),
                new_version=True,
                why="test",
            )
            await ask(pilot, app, "Reverse the string 'stressed'")
            await until(pilot, lambda: dash.answer.kind == "answer", what="the first answer")
            assert "desserts" not in dash.answer.text and "dessert" in dash.answer.text  # off by one
            await pilot.press("escape", "f")
            await until(pilot, lambda: isinstance(app.screen, CorrectionScreen), what="the correction form")
            await pilot.press(*'"desserts"')
            await pilot.press("enter")
            await until(
                pilot, lambda: "desserts" in dash.answer.text, timeout=120, what="the corrected answer"
            )
            record = services.registry.store.record("reverse_string")
            assert record.why == "corrected by the user" and record.corrections == 1
            assert any(c["expected"] == "desserts" for c in record.cases)


async def test_copy_keys_put_the_answer_and_the_code_on_the_clipboard() -> None:
    with ScriptedModel() as model:
        app = make_app(model.base_url)
        async with running(app) as pilot:
            dash = app.dashboard
            await ask(pilot, app, "Reverse the string 'hello'")
            await until(pilot, lambda: dash.answer.kind == "answer", what="the answer")
            await pilot.press("escape", "y")
            assert app.clipboard == dash.answer.text and "olleh" in app.clipboard
            await until(
                pilot, lambda: "def " in dash.viewer.pane("tool.py").text, what="the code in the viewer"
            )
            await pilot.press("k")
            assert app.clipboard == dash.viewer.pane(dash.viewer.shown).text and "def " in app.clipboard
            assert any("Copied" in n.message for n in app._notifications)
