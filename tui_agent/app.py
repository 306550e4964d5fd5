"""The Textual app: the first frame comes at once, the engine starts behind it, and every
engine call runs in a worker. Engine events arrive through the EventBus in batches and are
shown by the screens; keys become messages that only this class turns into engine work."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import importlib
import json
import os
import secrets
import signal
import sys
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import ComponentState, Event, LLMCall, Notice, RequestFailed
from tui_agent.core.flow.session import Session
from tui_agent.messages import CancelRequested, QuerySubmitted, ToolAction
from tui_agent.palette import key_help, tool_commands
from tui_agent.screens.dashboard import DashboardScreen
from tui_agent.screens.help import HelpScreen
from tui_agent.screens.tool_detail import ToolScreen
from tui_agent.tool_workers import ToolWorkers
from tui_agent.widgets.code_viewer import CodeViewer, warm_highlighting

RELOAD_ON = {"tool_registered", "tool_removed", "verdict", "answer", "approval_decided"}
UI_STATE = "ui-state.json"


class SelfengApp(ToolWorkers, App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "selfeng-tui"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", key_display="?", id="app.help"),
        Binding("f1", "help", "Help", id="app.help_f1"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True, id="app.quit_ctrl_c"),
    ]

    def __init__(self, settings: Settings, *, engine: bool = True) -> None:
        """``engine=False`` shows the dashboard without starting anything behind it (for
        staged screenshots); everything else is the same app."""
        super().__init__()
        self.settings = settings
        self.with_engine = engine
        self.bus = EventBus()
        self.services: Any = None
        self.engine_error: str | None = None
        self.ready = asyncio.Event()
        self._requests: dict[str, Worker[None]] = {}
        self._output_targets: dict[str, CodeViewer] = {}
        self._engine_stopped = False
        self.session = Session()  # this run's exchanges: a request may follow up on the last ones

    # --- start-up ---------------------------------------------------------------------

    async def on_mount(self) -> None:
        self.theme = self._saved_theme()
        self.theme_changed_signal.subscribe(self, self._remember_theme)
        self.dashboard = DashboardScreen(self.settings.home / "history.txt")
        await self.push_screen(self.dashboard)
        endpoint = self.settings.llm_base_url or "local"
        model = self.settings.llm_model if self.settings.llm_base_url else "qwen2.5-coder-1.5b"
        self.dashboard.status.set(endpoint=endpoint, model=model, sandbox=self.settings.sandbox)
        # A closed SSH session (SIGHUP) or a polite kill (SIGTERM) quits like q does, so the local
        # model server and pooled containers go with us instead of waiting for the next start's sweep.
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGTERM, lambda: self.call_next(self.action_quit))
            loop.add_signal_handler(signal.SIGHUP, lambda: self.call_next(self._hang_up))
        self._pump_worker = self.pump_events()
        if self.with_engine:
            self.call_after_refresh(self.start_engine)

    def _saved_theme(self) -> str:
        theme = self.settings.theme
        if "theme" not in self.settings.model_fields_set:
            with contextlib.suppress(OSError, ValueError, TypeError, AttributeError):
                theme = json.loads((self.settings.home / UI_STATE).read_text()).get("theme", theme)
        return theme if theme in self.available_themes else "textual-dark"

    def _remember_theme(self, theme: Any) -> None:
        with contextlib.suppress(OSError):
            self.settings.home.mkdir(parents=True, exist_ok=True)
            (self.settings.home / UI_STATE).write_text(json.dumps({"theme": theme.name}))

    @work(group="engine", exclusive=True, exit_on_error=False)
    async def start_engine(self) -> None:
        self.bus.publish(
            ComponentState(component="engine", state="loading", detail="sandbox and tool library")
        )
        try:
            services_module = await asyncio.to_thread(importlib.import_module, "tui_agent.core.services")
            self.services = await services_module.start_services(self.settings, self.bus, warm_llm=True)
        except Exception as exc:
            self.engine_error = f"the engine could not start: {exc}"
            self.bus.publish(Notice(level="error", message=self.engine_error))
            self.ready.set()
            return
        self.services.orchestrator.consent.approver = self._approve
        self.services.orchestrator.consent.path_approver = self._allow_path
        # the lexers' rules compile here, in a thread, not in the first frame that highlights
        await asyncio.to_thread(warm_highlighting)
        self.ready.set()
        # The engine brings millions of long-lived objects (torch, chromadb); a full collection
        # that walks them all stalls the event loop for 100-300 ms. Freezing them keeps the
        # collector to what the session itself allocates.
        gc.freeze()
        # Engine threads (sandbox I/O, embeddings) hand the GIL back every 1 ms instead of 5 ms,
        # so the event loop never waits long for it.
        sys.setswitchinterval(0.001)
        backend = self.services.sandbox.name
        self.dashboard.status.set(sandbox=backend)
        self.bus.publish(ComponentState(component="engine", state="ready", detail=f"sandbox {backend}"))
        self.reload_tools()
        self.warm_up_llm()

    @work(group="llm-warm-up", exclusive=True, exit_on_error=False)
    async def warm_up_llm(self) -> None:
        self.dashboard.status.set(llm_state="starting")
        try:
            await self.services.llm.warm_up()
        except Exception as exc:
            self.bus.publish(Notice(level="error", message=str(exc)))

    # --- engine events ----------------------------------------------------------------

    @work(group="events", exit_on_error=False)
    async def pump_events(self) -> None:
        subscription = self.bus.subscribe(name="dashboard", maxsize=20_000)
        async for batch in subscription.batches(limit=64):
            try:
                await self.show_events(batch)
            except Exception as exc:  # a display bug must not stop the live view
                self.log.error(f"showing events failed: {exc!r}")
                self.notify(f"display error: {exc}", severity="error")

    async def show_events(self, batch: list[Event]) -> None:
        batch = collapse_progress(batch)
        reload = False
        tokens = 0
        for event in batch:
            if isinstance(event, LLMCall):
                tokens += event.prompt_tokens + event.completion_tokens
            elif isinstance(event, ComponentState) and event.component in ("llm", "local_model"):
                self.dashboard.status.set(llm_state=event.state)
            elif isinstance(event, Notice) and event.level in ("error", "warning"):
                self.notify(event.message, severity=event.level, timeout=8)  # type: ignore[arg-type]
            elif isinstance(event, RequestFailed) and event.reason != "cancelled":
                self.notify(event.reason, severity="error", timeout=8)
            elif event.type == "sandbox_output" and (viewer := self._output_targets.get(event.request_id)):
                viewer.add_output(event.line)  # type: ignore[attr-defined]
            reload = reload or event.type in RELOAD_ON
        if tokens:
            self.dashboard.status.set(tokens=self.dashboard.status.tokens + tokens)
        await self.dashboard.show_events(batch)
        if reload:
            self.reload_tools()

    # --- requests ---------------------------------------------------------------------

    @on(QuerySubmitted)
    def _query(self, message: QuerySubmitted) -> None:
        rid = secrets.token_hex(4)
        self._requests[rid] = self.run_request(message.text, rid)
        self.dashboard.status.set(busy=len(self._requests))

    @work(group="requests", exit_on_error=False)
    async def run_request(self, text: str, rid: str) -> None:
        """The orchestrator ends every request it handles with one final event; this worker
        publishes one only for a request that never reached it."""
        handled = False
        try:
            if not self.ready.is_set():
                self.notify("Still starting; your request runs as soon as the engine is ready.")
                await self.ready.wait()
            if self.services is None:
                self.bus.publish(
                    RequestFailed(reason=self.engine_error or "the engine is not running", request_id=rid)
                )
                return
            handled = True
            await self.services.orchestrator.handle(text, request_id=rid, session=self.session)
        except asyncio.CancelledError:
            if not handled:
                self.bus.publish(RequestFailed(reason="cancelled", request_id=rid))
            raise
        finally:
            self._requests.pop(rid, None)
            self.dashboard.status.set(busy=len(self._requests))

    @on(CancelRequested)
    def action_cancel(self) -> None:
        if not self._requests:
            self.notify("Nothing is running.")
            return
        for worker in list(self._requests.values()):
            worker.cancel()
        self.notify(f"Cancelled {len(self._requests)} request(s).", severity="warning")

    # --- tools ------------------------------------------------------------------------

    @on(ToolAction)
    async def _tool_action(self, message: ToolAction) -> None:
        if message.name is None:
            return
        if self.services is None:
            self.notify("The tool library is still loading.", severity="warning")
            return
        if message.action == "open":
            screen = ToolScreen(message.name)
            await self.push_screen(screen)
            self.load_tool(message.name, screen)
        elif message.action == "preview" and message.viewer is not None:
            self.load_tool(message.name, message.viewer)
        elif message.action == "test" and message.viewer is not None:
            self.run_tool_tests(message.name, message.viewer)
        elif message.action == "remove":
            self.remove_tool(message.name)
        elif message.action == "pull":
            self.pull_library()

    # --- errors, help, palette, quit --------------------------------------------------

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            message = str(error).splitlines()[0] if str(error) else type(error).__name__
            self.bus.publish(Notice(level="error", message=f"{event.worker.group}: {message}"))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.key_help()))

    def key_help(self) -> list[tuple[str, str]]:
        return key_help(self)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from tool_commands(self)

    async def action_quit(self) -> None:
        self.notify("Stopping: local model and sandbox…", timeout=3)
        await self.shutdown()
        self.exit()

    async def _hang_up(self) -> None:
        """The terminal is gone: nothing to restore on it, so clean up and leave at once (a
        normal exit would wait on writes to a terminal that no longer exists)."""
        await self.shutdown()
        os._exit(0)

    async def shutdown(self) -> None:
        """Idempotent: stop requests, then the engine (local model server, pooled containers)."""
        if self._engine_stopped:
            return
        self._engine_stopped = True
        for worker in list(self._requests.values()):
            worker.cancel()
        if self.services is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.services.aclose(), timeout=20)

    async def on_unmount(self) -> None:
        await self.shutdown()


def collapse_progress(batch: list[Event]) -> list[Event]:
    """Only the newest progress of each task in a batch is worth a line (toolong's can_replace)."""
    last: dict[str, int] = {}
    for index, event in enumerate(batch):
        if event.type == "progress":
            last[event.task] = index  # type: ignore[attr-defined]
    return [e for i, e in enumerate(batch) if e.type != "progress" or last[e.task] == i]  # type: ignore[attr-defined]
