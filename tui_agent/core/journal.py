"""The session journal: every event of a session appended as one JSON line, so a run can be
replayed or audited after the fact (and after a crash: each line is flushed as it is written)."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from tui_agent.core.bus import EventBus, Subscription
from tui_agent.core.events import Event, from_dict, to_json


def new_session_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(3)


class Journal:
    """A bus subscriber writing ``journal_dir/<session_id>.jsonl``."""

    def __init__(self, journal_dir: Path, session_id: str | None = None) -> None:
        self.session_id = session_id or new_session_id()
        self.path = journal_dir / f"{self.session_id}.jsonl"
        self._file: TextIO | None = None

    def attach(self, bus: EventBus) -> Subscription:
        """Subscribe with a deep queue: the journal should lose nothing in a burst."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        return bus.subscribe(self.write, name="journal", maxsize=100_000)

    def write(self, event: Event) -> None:
        if self._file is None:
            raise RuntimeError("journal is not attached")
        self._file.write(to_json(event) + "\n")
        self._file.flush()

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def read_journal(path: Path) -> Iterator[Event]:
    """Events of one journal file, in order. A torn last line (a killed process) is skipped;
    a bad line elsewhere raises ValueError naming the line."""
    lines = path.read_text(encoding="utf-8").splitlines()
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            yield from_dict(json.loads(line))
        except (json.JSONDecodeError, ValueError) as exc:
            if number == len(lines):
                return
            raise ValueError(f"{path}:{number}: {exc}") from None
