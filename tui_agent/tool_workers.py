"""The app's work on one tool (open, test, remove), each in a worker so the screen stays live.
A mixin of :class:`~tui_agent.app.SelfengApp`: only the app talks to the engine."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from textual import work

from tui_agent.screens.confirm import ConfirmScreen
from tui_agent.screens.tool_detail import ToolScreen
from tui_agent.widgets.code_viewer import CodeViewer, verification_text


class ToolWorkers:
    services: Any
    _output_targets: dict[str, CodeViewer]

    @work(group="tool-load", exclusive=True, exit_on_error=False)
    async def load_tool(self, name: str, target: ToolScreen | CodeViewer) -> None:
        tool = await asyncio.to_thread(self.services.registry.get, name)
        if isinstance(target, ToolScreen):
            target.show(tool)
        else:
            target.show_tool(tool)

    @work(group="tool-tests", exit_on_error=False)
    async def run_tool_tests(self, name: str, viewer: CodeViewer) -> None:
        services = self.services
        if viewer.tool_name != name:
            viewer.show_tool(await asyncio.to_thread(services.registry.get, name))
        rid = f"test-{secrets.token_hex(3)}"
        self._output_targets[rid] = viewer
        viewer.begin_output(f"running {name}'s tests in the {services.sandbox.name} sandbox…")
        try:
            verdict = await services.retest(name, request_id=rid)
        finally:
            self._output_targets.pop(rid, None)
        viewer.pane("verification").set_text(verification_text(verdict.to_dict()))
        if verdict.passed:
            self.notify(f"{name}: {verdict.counts.passed}/{verdict.counts.collected} tests passed.")
        else:
            self.notify(f"{name}: tests failed ({verdict.detail or verdict.reason}).", severity="error")

    @work(group="tool-remove", exit_on_error=False)
    async def remove_tool(self, name: str) -> None:
        sure = await self.push_screen_wait(
            ConfirmScreen(f"Remove the tool {name!r} from the library?", yes="Remove", no="Keep")
        )
        if not sure:
            return
        await asyncio.to_thread(self.services.registry.remove, name)
        if isinstance(self.screen, ToolScreen) and self.screen.tool_name == name:
            self.pop_screen()
        self.notify(f"Removed {name}.")
