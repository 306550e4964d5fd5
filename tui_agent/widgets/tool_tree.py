"""The tool library: one node per tool (name, version, last verdict, uses), details as
children, narrowed by typing into the filter above it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.events import Key
from textual.geometry import Region
from textual.message import Message
from textual.widgets import Input, Tree

from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec
from tui_agent.widgets.steady_scroll import SteadyScroll
from tui_agent.widgets.theme_colours import theme_style


@dataclass(frozen=True)
class ToolEntry:
    """What the tree shows of one tool: a plain copy, so the widget holds no library handle."""

    name: str
    version: int
    verdict: str  # passed | failed | untested
    tests: str
    uses: int
    signature: str
    description: str
    approved: bool = True
    origin: str = ""  # the remote it was pulled from

    @classmethod
    def of(cls, record: ToolRecord) -> ToolEntry:
        verdict = record.verdict or {}
        state = "untested" if not verdict else ("passed" if verdict.get("passed") else "failed")
        counts = verdict.get("counts") or {}
        tests = f"{counts.get('passed', 0)}/{counts.get('collected', 0)} tests" if counts else ""
        try:
            spec = ToolSpec.model_validate(record.spec)
            signature, description = spec.signature(), spec.description
        except ValueError:
            signature, description = record.name, ""
        return cls(
            record.name,
            record.version,
            state,
            tests,
            record.usage_count,
            signature,
            description,
            record.approved,
            record.origin,
        )

    def matches(self, text: str) -> bool:
        text = text.lower().strip()
        return not text or text in self.name.lower() or text in self.description.lower()


VERDICT_MARKS = {"passed": ("✓", "success"), "failed": ("✗", "error"), "untested": ("?", "warning")}


class ToolTree(SteadyScroll, Tree[str]):
    """Printable keys typed here go to the filter, so 'filter by typing' just works; keys bound
    to an action (t, d, c, q, ...) keep their action.

    Tree asks for a relayout of the screen whenever its nodes change; in its fixed box a repaint
    is enough (SteadyScroll relayouts when a scrollbar comes or goes)."""

    def refresh(
        self, *regions: Region, repaint: bool = True, layout: bool = False, recompose: bool = False
    ) -> Self:
        return super().refresh(*regions, repaint=repaint, layout=False, recompose=recompose)

    def on_key(self, event: Key) -> None:
        if event.key in self.screen.active_bindings:
            return
        if event.is_printable and event.character and not event.character.isspace():
            self.post_message(ToolLibrary.FilterTyped(event.character))
            event.stop()
            event.prevent_default()


class ToolLibrary(Vertical):
    DEFAULT_CSS = """
    ToolLibrary { height: 1fr; }
    ToolLibrary > Input { height: 1; margin-bottom: 1; }
    ToolLibrary > ToolTree { height: 1fr; overflow-x: hidden; }
    """

    @dataclass
    class Highlighted(Message):
        name: str

    @dataclass
    class Opened(Message):
        name: str

    @dataclass
    class FilterTyped(Message):
        character: str

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.entries: list[ToolEntry] = []
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Input(placeholder="type to filter", id="tool-filter", compact=True)
        tree = ToolTree("library", id="tool-tree")
        tree.show_root = False
        tree.auto_expand = False
        yield tree

    @property
    def tool_tree(self) -> ToolTree:
        return self.query_one(ToolTree)

    @property
    def selected(self) -> str | None:
        node = self.tool_tree.cursor_node
        return node.data if node is not None else None

    def show_tools(self, entries: list[ToolEntry]) -> None:
        self.entries = sorted(entries, key=lambda e: e.name)
        self.loaded = True
        self._rebuild()

    def _label(self, entry: ToolEntry) -> Text:
        mark, colour = VERDICT_MARKS[entry.verdict]
        return Text.assemble(
            (f"{mark} ", theme_style(self.app, colour)),
            (entry.name, "bold"),
            (f" v{entry.version} {entry.uses}×", "dim"),
            (f" from {entry.origin}" if entry.origin else "", "italic"),
            ("" if entry.approved else " not approved", theme_style(self.app, "warning")),
        )

    @staticmethod
    def _leaves(entry: ToolEntry) -> list[str]:
        leaves = [entry.signature]
        if entry.tests:
            leaves.append(f"{entry.verdict}: {entry.tests}")
        if entry.description:
            leaves.append(entry.description[:120])
        return leaves

    def _rebuild(self) -> None:
        tree = self.tool_tree
        keep = self.selected
        text = self.query_one("#tool-filter", Input).value
        shown = [e for e in self.entries if e.matches(text)]
        nodes = tree.root.children
        same_shape = [n.data for n in nodes] == [e.name for e in shown] and all(
            [str(leaf.label) for leaf in node.children] == self._leaves(entry)
            for node, entry in zip(nodes, shown, strict=True)
        )
        if same_shape:  # a use counted, a verdict or approval changed: relabel, no rebuild
            for node, entry in zip(nodes, shown, strict=True):
                node.set_label(self._label(entry))
        else:
            tree.clear()
            for entry in shown:
                node = tree.root.add(self._label(entry), data=entry.name)
                for leaf in self._leaves(entry):
                    node.add_leaf(Text(leaf), data=entry.name)
            names = [e.name for e in shown]
            if names:
                tree.move_cursor(tree.root.children[names.index(keep) if keep in names else 0])
        self.border_title = (
            f"Tools {len(shown)}/{len(self.entries)}" if text else f"Tools {len(self.entries)}"
        )

    @on(Input.Changed, "#tool-filter")
    def _filter_changed(self) -> None:
        self._rebuild()

    @on(Input.Submitted, "#tool-filter")
    def _filter_done(self) -> None:
        self.tool_tree.focus()

    @on(FilterTyped)
    def _typed(self, message: FilterTyped) -> None:
        box = self.query_one("#tool-filter", Input)
        box.value += message.character
        box.cursor_position = len(box.value)
        box.focus()

    @on(Tree.NodeHighlighted)
    def _highlighted(self, message: Tree.NodeHighlighted[str]) -> None:
        if message.node.data:
            self.post_message(self.Highlighted(message.node.data))

    @on(Tree.NodeSelected)
    def _selected(self, message: Tree.NodeSelected[str]) -> None:
        message.stop()
        if message.node.data:
            self.post_message(self.Opened(message.node.data))
