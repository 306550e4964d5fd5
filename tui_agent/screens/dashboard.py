"""The main screen: library and TDD checklist on the left; query, answer, activity log and
code viewer on the right; status and keys at the bottom. It turns engine events into widget
updates and keys into messages for the app."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Footer, Input

from tui_agent.core.events import (
    Answer,
    AnswerChunk,
    CodeChunk,
    Event,
    PlanMade,
    PlanStepDone,
    QueryReceived,
    RepairOffered,
    SynthesisStep,
    ToolCalled,
)
from tui_agent.messages import CancelRequested, LearnRequested, QuerySubmitted, ToolAction
from tui_agent.widgets.activity_log import ActivityLog
from tui_agent.widgets.answer_view import AnswerView
from tui_agent.widgets.code_viewer import CodeViewer
from tui_agent.widgets.query_bar import QueryBar
from tui_agent.widgets.status_bar import StatusBar
from tui_agent.widgets.step_list import StepList
from tui_agent.widgets.tool_tree import ToolLibrary


@dataclass(frozen=True)
class LastAnswer:
    """The latest answer a tool computed: the request, the call, the value."""

    request: str
    tool: str
    args: dict[str, Any]
    value: Any


class DashboardScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_query", "Query", key_display="/", id="dashboard.query"),
        Binding("t", "test", "Test tool", id="dashboard.test"),
        Binding("d", "remove", "Remove tool", id="dashboard.remove"),
        Binding("p", "pull", "Pull library", show=False, id="dashboard.pull"),
        Binding("c", "cancel", "Cancel", id="dashboard.cancel"),
        Binding("f", "learn('fix')", "Fix answer", id="dashboard.fix"),
        Binding("r", "learn('repair')", "Repair", show=False, id="dashboard.repair"),
        Binding("y", "copy_answer", "Copy answer", id="dashboard.copy_answer"),
        Binding("k", "copy_code", "Copy code", show=False, id="dashboard.copy_code"),
        Binding("escape", "leave_input", "Library", id="dashboard.leave"),
    ]

    def __init__(self, history_file=None) -> None:  # type: ignore[no-untyped-def]
        super().__init__()
        self.history_file = history_file
        self._answers: dict[str, str] = {}
        self._texts: dict[str, str] = {}  # request id -> the request
        self._calls: dict[str, tuple[str, dict[str, Any]]] = {}  # request id -> the tool call that answered
        self.last_answer: LastAnswer | None = None  # what the f key corrects
        self.repair_offer: RepairOffered | None = None  # what the r key repairs

    def compose(self) -> ComposeResult:
        with Horizontal(id="main"):
            with Vertical(id="side"):
                yield ToolLibrary(id="library")
                yield StepList(id="steps")
            with Vertical(id="work"):
                yield QueryBar(self.history_file, id="query")
                yield AnswerView(id="answer")
                yield ActivityLog(id="log")
                yield CodeViewer(id="viewer")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#library").border_title = "Tools"
        self.query_one("#log").border_title = "Activity"
        self.query_one("#viewer").border_title = "Code"
        self.query_one(QueryBar).focus()

    # --- widgets, for the app -----------------------------------------------------------

    @property
    def library(self) -> ToolLibrary:
        return self.query_one(ToolLibrary)

    @property
    def log_view(self) -> ActivityLog:
        return self.query_one(ActivityLog)

    @property
    def viewer(self) -> CodeViewer:
        return self.query_one("#viewer", CodeViewer)

    @property
    def status(self) -> StatusBar:
        return self.query_one(StatusBar)

    @property
    def answer(self) -> AnswerView:
        return self.query_one(AnswerView)

    @property
    def steps(self) -> StepList:
        return self.query_one(StepList)

    # --- engine events ------------------------------------------------------------------

    async def show_events(self, events: list[Event]) -> None:
        for event in events:
            match event:
                case SynthesisStep():
                    self.steps.apply(event)
                case PlanMade() | PlanStepDone():
                    self.steps.apply_plan(event)
                case CodeChunk():
                    self.viewer.stream(event.request_id, event.file, event.text, event.replace)
                case AnswerChunk():
                    so_far = self._answers.get(event.request_id, "") + event.text
                    self._answers[event.request_id] = so_far
                    self.answer.say("working", so_far)
                case QueryReceived():
                    self._texts[event.request_id] = event.text
                    self.answer.say("working", event.text)
                case ToolCalled():
                    self._calls[event.request_id] = (event.name, event.args)
                case RepairOffered():
                    self.repair_offer = event
                    self.notify(
                        f"{event.tool} failed on this input: press r to repair it.", severity="warning"
                    )
                case _ if event.type == "tool_registered":
                    if self.viewer.streaming_request == event.request_id:
                        self.viewer.tool_name = event.name  # type: ignore[attr-defined]
                case _ if event.type in ("answer", "question", "request_failed"):
                    self._finish(event)
        await self.log_view.add_events(events)

    def _finish(self, event: Event) -> None:
        """A request's final event: the answer pane says it, and an answer from a tool call is
        what the f key corrects."""
        rid = event.request_id
        self._answers.pop(rid, None)
        if self.viewer.streaming_request == rid:
            self.viewer.streaming_request = None
        if isinstance(event, Answer) and rid in self._calls:
            name, args = self._calls[rid]
            self.last_answer = LastAnswer(self._texts.get(rid, ""), name, args, event.value)
        self._texts.pop(rid, None)
        self._calls.pop(rid, None)
        text = getattr(event, "text", None) or getattr(event, "reason", "")
        kind = {"answer": "answer", "question": "question"}.get(event.type, "failed")
        self.answer.say(kind, text)

    # --- keys -------------------------------------------------------------------------

    @on(Input.Submitted, "#query")
    def _submitted(self, event: Input.Submitted) -> None:
        text = event.value.strip()
        if not text:
            return
        bar = self.query_one(QueryBar)
        bar.remember(text)
        bar.value = ""
        self.post_message(QuerySubmitted(text))

    @on(ToolLibrary.Highlighted)
    def _preview(self, message: ToolLibrary.Highlighted) -> None:
        if self.viewer.tool_name != message.name and self.viewer.streaming_request is None:
            self.post_message(ToolAction("preview", message.name, self.viewer))

    @on(ToolLibrary.Opened)
    def _open(self, message: ToolLibrary.Opened) -> None:
        self.post_message(ToolAction("open", message.name))

    def action_focus_query(self) -> None:
        self.query_one(QueryBar).focus()

    def action_leave_input(self) -> None:
        if isinstance(self.focused, Input):
            self.library.tool_tree.focus()

    def _selected_or_warn(self) -> str | None:
        name = self.library.selected
        if name is None:
            self.notify("Select a tool in the library first (escape, then arrows).", severity="warning")
        return name

    def action_test(self) -> None:
        if (name := self._selected_or_warn()) is not None:
            self.post_message(ToolAction("test", name, self.viewer))

    def action_remove(self) -> None:
        if (name := self._selected_or_warn()) is not None:
            self.post_message(ToolAction("remove", name))

    def action_pull(self) -> None:
        self.post_message(ToolAction("pull", ""))

    def action_cancel(self) -> None:
        self.post_message(CancelRequested())

    def action_learn(self, action: str) -> None:
        self.post_message(LearnRequested(action))

    def action_copy_answer(self) -> None:
        if self.answer.kind in ("idle", "working") or not self.answer.text:
            self.notify("There is no answer to copy yet.", severity="warning")
            return
        self.app.copy_to_clipboard(self.answer.text)
        self.notify("Copied the answer to the clipboard.")

    def action_copy_code(self) -> None:
        title = self.viewer.shown
        text = self.viewer.pane(title).text
        if not text.strip():
            self.notify("The viewer is empty: nothing to copy.", severity="warning")
            return
        self.app.copy_to_clipboard(text)
        self.notify(f"Copied {title} to the clipboard.")
