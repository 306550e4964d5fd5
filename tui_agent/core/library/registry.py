"""The tool library's front door: files are the truth (:mod:`store`), the search index is derived
(:mod:`index`).

On open the index is checked against ``tools/`` and repaired: a missing or corrupt index is
rebuilt, entries whose tool is gone are dropped, changed or missing tools are (re)embedded,
with progress events. Search ranks candidates by cosine similarity; reuse needs a verified tool
at or above the calibrated threshold (precision first: running the wrong tool is worse than
writing a new one). All methods block: call them off the event loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import Progress, ToolRegistered, ToolRemoved
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.library.index import Candidate, SearchIndex, SearchResult
from tui_agent.core.library.sharing import (
    RegistryError,
    Verify,
    import_folder,
    import_starters,
    needs_starters,
)
from tui_agent.core.library.store import ToolStore
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.record import Tool, ToolRecord, ToolStoreError

__all__ = ["Candidate", "Registry", "RegistryError", "RepairReport", "SearchResult"]


@dataclass
class RepairReport:
    rebuilt: bool = False
    reason: str = ""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    store_notes: list[str] = field(default_factory=list)
    starters: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.rebuilt or self.added or self.updated or self.dropped)


class Registry:
    def __init__(
        self, settings: Settings, bus: EventBus | None = None, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = ToolStore(settings.tools_dir)
        self.embedder = embedder or Embedder(settings.embedding_model)
        self.threshold = settings.similarity_threshold
        self.index = SearchIndex(settings)
        self._generation: str | None = None  # the store's generation our index view reflects

    # --- index ------------------------------------------------------------------------

    def _progress(self, done: int, total: int, message: str) -> None:
        if self.bus is not None:
            self.bus.publish(Progress(task="index", done=done, total=total, message=message))

    def needs_starters(self) -> bool:
        return needs_starters(self.store)

    def open(self, import_starters: bool = True, verify: Any = None) -> RepairReport:
        """Connect to the index, repair it against the files, import the starters into an empty
        library (verified with ``verify`` when given). Idempotent; call at start, off the loop."""
        report = RepairReport(store_notes=[*self.store.recovered, *self.store.recover()])
        self.embedder.load()
        if not self.index.remote and not self.settings.index_dir.exists():
            report.rebuilt, report.reason = True, "index directory missing"
        try:
            self.index.connect()
        except Exception as exc:
            if self.index.remote:
                raise RegistryError(
                    f"cannot reach the Chroma server at {self.settings.chroma_url}: {str(exc)[:120]}"
                ) from None
            report.rebuilt, report.reason = (
                True,
                f"index unreadable ({type(exc).__name__}): rebuilt from tools/",
            )
            self.index.drop()
            self.index.connect()
        with self.store.locked():
            self._sync(report)
            self._generation = self.store.generation()
        if import_starters:
            report.starters = self.import_starters(verify)
        return report

    def _sync(self, report: RepairReport) -> None:
        indexed = self.index.state()
        # a tool changed on disk behind our back (sha256 differs) is neither served nor indexed
        records = {r.name: r for r in self.store.records() if self._files_match(r)}
        report.dropped = [name for name in indexed if name not in records]
        self.index.delete(report.dropped)
        todo = []
        for name, record in records.items():
            if name not in indexed:
                report.added.append(name)
                todo.append(record)
            elif indexed[name] != record.index_key:
                report.updated.append(name)
                todo.append(record)
        for start in range(0, len(todo), 256):
            batch = todo[start : start + 256]
            self._upsert(batch)
            self._progress(start + len(batch), len(todo), "indexing tools")

    def _files_match(self, record: ToolRecord) -> bool:
        try:
            self.store.load(record.name)
            return True
        except (ToolStoreError, OSError):
            return False

    def _upsert(self, records: list[ToolRecord]) -> None:
        from tui_agent.core.library.index import index_text

        self.index.upsert(records, self.embedder.encode([index_text(r) for r in records]))

    def rebuild(self) -> RepairReport:
        """Throw the index away and make it again from tools/ (what `open` does when it must)."""
        self.index.drop()
        report = RepairReport(rebuilt=True, reason="rebuild requested")
        self.index.connect()
        self._sync(report)
        return report

    def close(self) -> None:
        self.index.close()

    # --- library ----------------------------------------------------------------------

    def _need_open(self) -> None:
        if not self.index.is_open:
            raise RegistryError("the library is not open yet")

    def _fresh(self) -> None:
        """Catch up with what other processes changed (the store's generation moved): reopen the
        index, whose in-memory view would be stale, and sync it with the files."""
        if self.store.generation() == self._generation:
            return
        with self.store.locked():
            if not self.index.remote:
                self.index.close_local()
                self.index.connect()
            self._sync(RepairReport())
            self._generation = self.store.generation()

    def add(
        self,
        name: str,
        tool_source: str,
        test_source: str,
        spec: dict[str, Any],
        *,
        cases: list[TestCase],
        verdict: dict[str, Any] | None,
        new_version: bool = False,
        request_id: str = "",
        **fields: Any,
    ) -> ToolRecord:
        """Register a new tool (ToolExistsError when the name is taken: names are never taken
        over) or, with ``new_version``, the next version of an existing one."""
        self._need_open()
        with self.store.locked():
            self._fresh()
            save = self.store.add_version if new_version else self.store.create
            record = save(
                name,
                tool_source,
                test_source,
                spec,
                cases=[c.model_dump() for c in cases],
                verdict=verdict,
                **fields,
            )
            self._upsert([record])
            self._generation = self.store.generation()
        if self.bus is not None:
            self.bus.publish(ToolRegistered(name=name, version=record.version, request_id=request_id))
        return record

    def get(self, name: str) -> Tool:
        return self.store.load(name)

    def list(self) -> list[ToolRecord]:
        return self.store.records()

    def broken(self) -> dict[str, str]:
        return self.store.scan()[1]

    def history(self, name: str) -> list[ToolRecord]:
        return self.store.history(name)

    def remove(self, name: str) -> None:
        self._need_open()
        with self.store.locked():
            self._fresh()
            self.store.remove(name)
            self.index.delete([name])
            self._generation = self.store.generation()
        if self.bus is not None:
            self.bus.publish(ToolRemoved(name=name))

    def record_use(self, name: str) -> None:
        with self.store.locked():
            record = self.store.record(name)
            self.store.update(name, usage_count=record.usage_count + 1)

    def approve(self, name: str) -> ToolRecord:
        return self.store.update(name, approved=True)

    def set_verdict(self, name: str, verdict: dict[str, Any]) -> ToolRecord:
        self._need_open()
        with self.store.locked():
            self._fresh()
            record = self.store.update(name, verdict=verdict)
            self._upsert([record])
            self._generation = self.store.generation()
        return record

    def search(self, query: str, k: int = 5) -> SearchResult:
        self._need_open()
        self._fresh()
        count = self.index.count()
        if count == 0 or not query.strip():
            return SearchResult(query, (), self.threshold, self.settings.candidate_threshold)
        candidates = self.index.query(self.embedder.encode_one(query), min(k, count))
        return SearchResult(query, tuple(candidates), self.threshold, self.settings.candidate_threshold)

    # --- sharing ----------------------------------------------------------------------

    def import_dir(self, directory: Path, **options: Any) -> ToolRecord:
        """:func:`sharing.import_folder`, with the index brought up to date."""
        self._need_open()
        with self.store.locked():
            self._fresh()
            record = import_folder(self.store, directory, **options)
            self._upsert([record])
            self._generation = self.store.generation()
        if self.bus is not None:
            self.bus.publish(ToolRegistered(name=record.name, version=record.version))
        return record

    def import_starters(self, verify: Verify | None = None) -> list[str]:
        with self.store.locked():
            imported = import_starters(self.store, verify)
            if imported:
                self._fresh()
        return imported
