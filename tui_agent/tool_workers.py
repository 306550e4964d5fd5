"""The app's work on tools (list, approve, open, test, remove, pull, correct, repair; a file's yes),
each in a worker so the screen stays live. A mixin of :class:`~tui_agent.app.SelfengApp`: only the app talks to the
engine."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from textual import work

from tui_agent.core.tool.record import Tool
from tui_agent.messages import LearnRequested, QuerySubmitted
from tui_agent.screens.approval import ApprovalScreen
from tui_agent.screens.confirm import ConfirmScreen
from tui_agent.screens.correction import CorrectionScreen
from tui_agent.screens.dashboard import LastAnswer
from tui_agent.screens.tool_detail import ToolScreen
from tui_agent.widgets.code_viewer import CodeViewer, verification_text
from tui_agent.widgets.tool_tree import ToolEntry


class ToolWorkers:
    services: Any
    dashboard: Any
    _output_targets: dict[str, CodeViewer]

    @work(group="tools", exclusive=True, exit_on_error=False)
    async def reload_tools(self) -> None:
        if self.services is None:
            return
        records = await asyncio.to_thread(self.services.registry.list)
        entries = [ToolEntry.of(r) for r in records]
        self.dashboard.library.show_tools(entries)
        self.dashboard.status.set(tools=len(entries))

    async def _approve(self, tool: Tool) -> bool:
        """Called by the orchestrator inside the request's worker: the modal waits for the user."""
        return bool(await self.push_screen_wait(ApprovalScreen(tool)))

    async def _allow_path(self, path: Any) -> bool:
        """A file outside the working directory: the person says whether a tool may read it."""
        question = (
            f"A tool wants to read {path}, which is outside the working directory. Let it read this one file?"
        )
        return bool(await self.push_screen_wait(ConfirmScreen(question, yes="Allow", no="Refuse")))

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

    @work(group="library-pull", exclusive=True, exit_on_error=False)
    async def pull_library(self) -> None:
        self.notify("Pulling the library's remotes…")
        notes = await self.services.pull()
        self.notify("\n".join(notes)[:600] or "Nothing new.", timeout=12)
        self.reload_tools()

    # --- learning: corrections and repairs -----------------------------------------------

    def on_learn_requested(self, message: LearnRequested) -> None:
        app: Any = self
        if app.services is None:
            app.notify("The engine is still starting.", severity="warning")
            return
        if message.action == "fix":
            last = app.dashboard.last_answer
            if last is None:
                app.notify("There is no answer from a tool to correct yet.", severity="warning")
                return
            self.correct_answer(last)
        elif message.action == "repair":
            offer = app.dashboard.repair_offer
            if offer is None:
                app.notify("No tool has failed on a request: nothing to repair.", severity="warning")
                return
            app.dashboard.repair_offer = None
            self.repair_tool(offer.tool, offer.args, offer.request)

    @work(group="learn", exclusive=True, exit_on_error=False)
    async def correct_answer(self, last: LastAnswer) -> None:
        """The form, then the correction: a new version when the tool does not already give the
        right answer, and the request answered again with it."""
        app: Any = self
        correction = await app.push_screen_wait(
            CorrectionScreen(last.tool, last.args, last.value, last.request)
        )
        if correction is None:
            return
        app.notify(f"Correcting {correction.tool}: the answer becomes a test, then the tool is repaired…")
        outcome = await app.services.engine.correct(correction.tool, correction.args, correction.expected)
        await self._after_learning(outcome.status, outcome.message, correction.request)

    @work(group="learn", exclusive=True, exit_on_error=False)
    async def repair_tool(self, name: str, args: dict[str, Any], request: str) -> None:
        app: Any = self
        app.notify(f"Repairing {name} with the input it failed on…")
        outcome = await app.services.engine.repair_failure(name, args)
        await self._after_learning(outcome.status, outcome.message, request)

    async def _after_learning(self, status: str, message: str, request: str) -> None:
        app: Any = self
        severity = {"repaired": "information", "unchanged": "information"}.get(status, "error")
        app.notify(message, severity=severity, timeout=8)
        if status == "repaired" and request:
            app.post_message(QuerySubmitted(request))  # answered again, by the new version
