"""The query input, with a history walked by up/down and kept across sessions."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import ClassVar

from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.reactive import Reactive
from textual.widgets import Input

HISTORY_LIMIT = 500


class QueryBar(Input):
    # Input sets its virtual size as its value changes, and Widget's relayouts the whole screen
    # for that; the query bar's box never changes, so a repaint is enough.
    virtual_size: Reactive[Size] = Reactive(Size(0, 0), layout=False)

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "history(-1)", "Previous query", show=False),
        Binding("down", "history(1)", "Next query", show=False),
    ]

    def __init__(self, history_file: Path | None = None, *, id: str | None = None) -> None:
        super().__init__(placeholder="Ask for anything a small tool can compute…  (enter to send)", id=id)
        self.history_file = history_file
        self.history: list[str] = self._load()
        self._cursor: int | None = None
        self._draft = ""

    def _load(self) -> list[str]:
        if self.history_file is None:
            return []
        with contextlib.suppress(OSError, UnicodeDecodeError):
            return [line for line in self.history_file.read_text(encoding="utf-8").splitlines() if line][
                -HISTORY_LIMIT:
            ]
        return []

    def remember(self, query: str) -> None:
        """Add a sent query (not repeating the last one) and persist the history."""
        query = query.strip()
        if query and (not self.history or self.history[-1] != query):
            self.history.append(query)
            del self.history[:-HISTORY_LIMIT]
            if self.history_file is not None:
                with contextlib.suppress(OSError):
                    self.history_file.parent.mkdir(parents=True, exist_ok=True)
                    self.history_file.write_text("\n".join(self.history) + "\n", encoding="utf-8")
        self._cursor = None
        self._draft = ""

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        if self._cursor is None:
            if step > 0:
                return
            self._draft = self.value
            self._cursor = len(self.history)
        self._cursor = max(0, self._cursor + step)
        if self._cursor >= len(self.history):
            self._cursor = None
            self.value = self._draft
        else:
            self.value = self.history[self._cursor]
        self.cursor_position = len(self.value)
