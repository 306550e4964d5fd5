"""A session's recent exchanges, so a request can follow up on the last one ("and 26.2?", "what
about the next odd number?"). The dashboard keeps one per run of the app; the headless ``ask``
keeps the last session in the home (``session.json``), and ``ask --continue`` follows it. A
request is rewritten to stand alone from these exchanges before anything else (:mod:`followup`),
and the rewrite is shown."""

from __future__ import annotations

import json
import os
import secrets
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

KEEP = 3  # exchanges a follow-up may refer to


@dataclass(frozen=True)
class Exchange:
    request: str  # as it stood alone (a follow-up after its rewrite)
    answer: str
    value: Any = None


class Session:
    def __init__(self, path: Path | None = None, keep: int = KEEP) -> None:
        """``path``: where the session is kept between processes (None: this process only)."""
        self.path = path
        self.exchanges: deque[Exchange] = deque(maxlen=keep)

    @classmethod
    def resumed(cls, path: Path, keep: int = KEEP) -> Session:
        """The session kept at ``path``; an empty one when there is none, or it is unreadable."""
        session = cls(path, keep)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            for item in data.get("exchanges", [])[-keep:]:
                session.exchanges.append(
                    Exchange(str(item["request"]), str(item["answer"]), item.get("value"))
                )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            pass
        return session

    def recent(self) -> list[Exchange]:
        return list(self.exchanges)

    def add(self, exchange: Exchange) -> None:
        self.exchanges.append(exchange)
        if self.path is not None:
            self._save()

    def _save(self) -> None:
        assert self.path is not None
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{secrets.token_hex(4)}.tmp")
        try:
            tmp.write_text(json.dumps({"exchanges": [asdict(e) for e in self.exchanges]}, default=str))
            os.replace(tmp, self.path)
        except OSError:
            tmp.unlink(missing_ok=True)
