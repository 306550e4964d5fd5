"""The code viewer keeps four documents in one pane: what a reader sees on each tab, where they
left it, and what a stream does while another tab is open."""

from __future__ import annotations

from textual.app import App, ComposeResult

from tui_agent.widgets.code_viewer import CodePane, CodeViewer

LONG = "".join(f"line_{i} = {i}\n" for i in range(200))


class ViewerApp(App[None]):
    def compose(self) -> ComposeResult:
        yield CodeViewer(id="viewer")


def screen_text(pane: CodePane) -> str:
    return "\n".join(pane.render_line(y).text for y in range(pane.scrollable_content_region.height))


async def test_each_tab_shows_its_own_document_and_keeps_its_place() -> None:
    app = ViewerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        viewer = app.query_one(CodeViewer)
        viewer.pane("tool.py").set_text(LONG)
        viewer.pane("spec").set_text('{"function_name": "f"}')
        await pilot.pause()
        body = viewer.body
        assert "line_199 = 199" in screen_text(body)  # a new document shows its end
        body.scroll_to(0, 50, animate=False, immediate=True)
        await pilot.pause()
        assert screen_text(body).splitlines()[0].strip() == "line_50 = 50"

        await pilot.click("#tab-spec")
        await pilot.pause()
        assert viewer.active == "tab-spec"
        assert '"function_name"' in screen_text(body) and "line_" not in screen_text(body)

        await pilot.press("left", "left")  # the tab bar has focus after the click
        await pilot.pause()
        assert viewer.active == "tab-tool"
        assert screen_text(body).splitlines()[0].strip() == "line_50 = 50"


async def test_a_stream_into_a_hidden_tab_is_all_there_when_the_tab_opens() -> None:
    app = ViewerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        viewer = app.query_one(CodeViewer)
        viewer.active = "tab-verify"
        for i in range(30):
            viewer.pane("tool.py").append(f"x_{i} = {i}\n")
        await pilot.pause()
        assert viewer.active == "tab-verify" and "x_" not in screen_text(viewer.body)
        viewer.active = "tab-tool"
        await pilot.pause()
        assert viewer.pane("tool.py").text.count("\n") == 30
        assert "x_29 = 29" in screen_text(viewer.body)
