"""The tool library's front door: files are the truth (:mod:`store`), the search index is derived
(:mod:`index`).

On open the index is checked against ``tools/`` and repaired: a missing or corrupt index is
rebuilt, entries whose tool is gone are dropped, changed or missing tools are (re)embedded,
with progress events. Search ranks candidates by cosine similarity; reuse needs a verified tool
at or above the calibrated threshold (precision first: running the wrong tool is worse than
writing a new one). All methods block: call them off the event loop.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import Progress, ToolRegistered, ToolRemoved
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.library.index import Candidate, SearchIndex, SearchResult, trouble_last
from tui_agent.core.library.lexical import LexicalIndex
from tui_agent.core.library.phrasings import documents, with_learned
from tui_agent.core.library.sharing import (
    RegistryError,
    Verify,
    import_folder,
    import_starters,
    needs_starters,
)
from tui_agent.core.library.store import ToolStore
from tui_agent.core.request.templates import template_of
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


F = TypeVar("F", bound=Callable[..., Any])


def guarded(method: F) -> F:
    """Run ``method`` holding the library's in-process guard (see IndexedLibrary._guard)."""

    @functools.wraps(method)
    def wrapper(self: IndexedLibrary, *args: Any, **kwargs: Any) -> Any:
        with self._guard:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class IndexedLibrary:
    """The files and the index kept in step: opening repairs the index from the files, and a
    change by another process (the store's generation moved) is caught up with before use."""

    def __init__(
        self, settings: Settings, bus: EventBus | None = None, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = ToolStore(settings.tools_dir)
        self.embedder = embedder or Embedder(settings.embedding_model)
        self.threshold = settings.similarity_threshold
        self.index = SearchIndex(settings)
        self.lexical = LexicalIndex()
        self._texts: dict[str, list[str]] = {}  # each indexed tool's phrasings, for the lexical half
        self._generation: str | None = None  # the store's generation our index view reflects
        # One thread at a time uses or replaces the index view: catching up with another process
        # reconnects the embedded index, which a search in another thread must not see half-done.
        self._guard = threading.RLock()

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
        # under the library's lock: two processes opening an empty index at once would each
        # create the collection, and one would then write to a collection that is gone
        with self.store.locked():
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
        self._texts = {name: documents(record) for name, record in records.items()}
        self._rebuild_lexical()
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
        texts = [documents(r) for r in records]
        self.index.upsert(records, texts, self.embedder.encode([t for group in texts for t in group]))
        for record, group in zip(records, texts, strict=True):
            self._texts[record.name] = group
        self._rebuild_lexical()

    def _rebuild_lexical(self) -> None:
        self.lexical.build([(name, text) for name, group in self._texts.items() for text in group])

    @guarded
    def rebuild(self) -> RepairReport:
        """Throw the index away and make it again from tools/ (what `open` does when it must)."""
        self.index.drop()
        report = RepairReport(rebuilt=True, reason="rebuild requested")
        self.index.connect()
        self._sync(report)
        return report

    def close(self) -> None:
        self.index.close()

    def _need_open(self) -> None:
        if not self.index.is_open:
            raise RegistryError("the library is not open yet")

    @guarded
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


class Registry(IndexedLibrary):
    """The library's operations; every change goes to the files first, then to the index."""

    # --- library ----------------------------------------------------------------------

    @guarded
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

    @guarded
    def remove(self, name: str) -> None:
        self._need_open()
        with self.store.locked():
            self._fresh()
            self.store.remove(name)
            self.index.delete([name])
            self._texts.pop(name, None)
            self._rebuild_lexical()
            self._generation = self.store.generation()
        if self.bus is not None:
            self.bus.publish(ToolRemoved(name=name))

    def record_use(self, name: str, *, ok: bool = True) -> None:
        """One call on a request's arguments: a use, and a failure when it raised or was stopped."""
        self.store.count(name, usage_count=1, failures=0 if ok else 1)

    def record_answer(self, name: str) -> None:
        self.store.count(name, answers=1)

    @guarded
    def learn_phrasing(self, name: str, request: str, args: dict[str, Any]) -> None:
        """``request`` was answered by ``name`` with a verified value, called with ``args``: one
        more way to find it, kept as a template when its values can be told apart."""
        with self.store.locked():
            self._fresh()
            record = self.store.record(name)
            phrasings = with_learned(record.phrasings, template_of(request, args) or request)
            if phrasings != record.phrasings:
                self._upsert([self.store.update(name, phrasings=phrasings)])
            self._generation = self.store.generation()

    def approve(self, name: str) -> ToolRecord:
        return self.store.update(name, approved=True)

    @guarded
    def set_verdict(self, name: str, verdict: dict[str, Any]) -> ToolRecord:
        self._need_open()
        with self.store.locked():
            self._fresh()
            record = self.store.update(name, verdict=verdict)
            self._upsert([record])
            self._generation = self.store.generation()
        return record

    @guarded
    def lexical_names(self, query: str, k: int = 5) -> list[str]:
        """The ``k`` tools whose phrasings share the most words with ``query``: no embedding
        model needed, so a request worded like one answered before is found at once."""
        self._need_open()
        self._fresh()
        found = self.lexical.scores(query)
        return [name for name, _score in sorted(found.items(), key=lambda kv: -kv[1])[:k]]

    @guarded
    def search(self, query: str, k: int = 5) -> SearchResult:
        """The ``k`` best tools for ``query``: the best embedding match over each tool's phrasings
        plus ``lexical_weight`` times its BM25 match (tools found only lexically are scored
        densely too, so every candidate has both parts). The index is read under the library's
        lock: another process's save (which replaces a tool's documents) is never seen half-done."""
        self._need_open()
        settings = self.settings
        empty = SearchResult(query, (), self.threshold, settings.candidate_threshold)
        if not query.strip():
            return empty
        vector = self.embedder.encode_one(query)  # the slow part, outside the lock
        with self.store.locked():
            self._fresh()
            if self.index.count() == 0:
                return empty
            found = {c.name: c for c in self.index.query(vector, k * 3)}
            lexical = self.lexical.scores(query)
            only_lexical = [
                n for n, _s in sorted(lexical.items(), key=lambda kv: -kv[1])[:k] if n not in found
            ]
            if only_lexical:
                found.update(
                    {c.name: c for c in self.index.query(vector, len(only_lexical), only=only_lexical)}
                )
        ranked = sorted(
            (
                replace(
                    c,
                    lexical=lexical.get(c.name, 0.0),
                    score=c.dense + settings.lexical_weight * lexical.get(c.name, 0.0),
                )
                for c in found.values()
            ),
            key=lambda c: -c.score,
        )
        return SearchResult(
            query, tuple(self._trouble_last(ranked[:k])), self.threshold, settings.candidate_threshold
        )

    def _trouble_last(self, ranked: list[Candidate]) -> list[Candidate]:
        trouble = {}
        for c in ranked:
            try:
                trouble[c.name] = self.store.record(c.name).trouble
            except ToolStoreError:
                trouble[c.name] = 0
        return trouble_last(ranked, trouble)

    # --- sharing ----------------------------------------------------------------------

    @guarded
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
