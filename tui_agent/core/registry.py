"""The tool library: files are the truth (:mod:`tool_store`), ChromaDB is a derived index.

On open the index is checked against ``tools/`` and repaired: a missing or corrupt index is
rebuilt, entries whose tool is gone are dropped, changed or missing tools are (re)embedded,
with progress events. Search ranks candidates by cosine similarity; reuse needs a verified tool
at or above the calibrated threshold (precision first: running the wrong tool is worse than
writing a new one). All methods block: call them off the event loop.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from tui_agent.core.config import Settings
from tui_agent.core.embeddings import Embedder
from tui_agent.core.events import EventBus, Progress, ToolRegistered, ToolRemoved
from tui_agent.core.spec import ToolSpec
from tui_agent.core.tool_store import (
    META_FILE,
    TEST_FILE,
    TOOL_FILE,
    Tool,
    ToolRecord,
    ToolStore,
    ToolStoreError,
)

COLLECTION = "selfeng_tools"
STARTER_DIR = Path(__file__).resolve().parent.parent / "starter_tools"
STARTERS_MARKER = ".starters-imported"


class RegistryError(ToolStoreError):
    pass


@dataclass(frozen=True)
class Candidate:
    name: str
    score: float
    verified: bool
    version: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": round(self.score, 4),
            "verified": self.verified,
            "version": self.version,
        }


@dataclass(frozen=True)
class SearchResult:
    query: str
    candidates: tuple[Candidate, ...]
    threshold: float
    candidate_threshold: float = 0.0

    def _top_verified(self) -> Candidate | None:
        return next((c for c in self.candidates if c.verified), None)

    @property
    def best(self) -> Candidate | None:
        """The tool to reuse outright: the top verified candidate at or above the threshold."""
        top = self._top_verified()
        return top if top is not None and top.score >= self.threshold else None

    @property
    def plausible(self) -> Candidate | None:
        """A tool worth asking the model about: top verified, at or above candidate_threshold."""
        top = self._top_verified()
        return top if top is not None and top.score >= self.candidate_threshold else None

    def to_dict(self) -> dict[str, Any]:
        best, plausible = self.best, self.plausible
        return {
            "query": self.query,
            "threshold": self.threshold,
            "candidate_threshold": self.candidate_threshold,
            "candidates": [c.to_dict() for c in self.candidates],
            "reuse": best.name if best else None,
            "confirm": plausible.name if plausible and not best else None,
        }


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


def index_text(record: ToolRecord) -> str:
    try:
        return ToolSpec.model_validate(record.spec).search_text()
    except ValueError:
        return f"{record.name.replace('_', ' ')}: {record.spec.get('description', '')}"


class Registry:
    def __init__(
        self, settings: Settings, bus: EventBus | None = None, embedder: Embedder | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.store = ToolStore(settings.tools_dir)
        self.embedder = embedder or Embedder(settings.embedding_model)
        self.threshold = settings.similarity_threshold
        self._client: Any = None
        self._collection: Any = None

    # --- index ------------------------------------------------------------------------

    def _connect(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.settings.chroma_url:
            url = urlparse(self.settings.chroma_url)
            self._client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            self._client = chromadb.PersistentClient(
                path=str(self.settings.index_dir), settings=chroma_settings
            )
        self._collection = self._client.get_or_create_collection(
            COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self._collection.count()  # touches the storage: a corrupt file fails here

    def _drop_local_index(self) -> None:
        from chromadb.api.client import SharedSystemClient

        self._client = self._collection = None
        SharedSystemClient.clear_system_cache()
        shutil.rmtree(self.settings.index_dir, ignore_errors=True)

    def _progress(self, done: int, total: int, message: str) -> None:
        if self.bus is not None:
            self.bus.publish(Progress(task="index", done=done, total=total, message=message))

    def needs_starters(self) -> bool:
        return not (self.settings.tools_dir / STARTERS_MARKER).exists() and not self.store.names()

    def open(self, import_starters: bool = True, verify: Any = None) -> RepairReport:
        """Connect to the index, repair it against the files, import the starters into an empty
        library (verified with ``verify`` when given). Idempotent; call at start, off the loop."""
        report = RepairReport(store_notes=[*self.store.recovered, *self.store.recover()])
        self.embedder.load()
        if not self.settings.chroma_url and not self.settings.index_dir.exists():
            report.rebuilt, report.reason = True, "index directory missing"
        try:
            self._connect()
        except Exception as exc:
            if self.settings.chroma_url:
                raise RegistryError(
                    f"cannot reach the Chroma server at {self.settings.chroma_url}: {str(exc)[:120]}"
                ) from None
            report.rebuilt, report.reason = (
                True,
                f"index unreadable ({type(exc).__name__}): rebuilt from tools/",
            )
            self._drop_local_index()
            self._connect()
        self._sync(report)
        if import_starters:
            report.starters = self.import_starters(verify)
        return report

    def _index_state(self) -> dict[str, str]:
        got = self._collection.get(include=["metadatas"])
        return {
            i: (m or {}).get("hash", "") for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
        }

    def _sync(self, report: RepairReport) -> None:
        indexed = self._index_state()
        # a tool changed on disk behind our back (sha256 differs) is neither served nor indexed
        records = {r.name: r for r in self.store.records() if self._files_match(r)}
        report.dropped = [name for name in indexed if name not in records]
        if report.dropped:
            self._collection.delete(ids=report.dropped)
        todo = []
        for name, record in records.items():
            if name not in indexed:
                report.added.append(name)
                todo.append(record)
            elif indexed[name] != record.content_hash:
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
        texts = [index_text(r) for r in records]
        self._collection.upsert(
            ids=[r.name for r in records],
            embeddings=self.embedder.encode(texts),
            documents=texts,
            metadatas=[
                {"hash": r.content_hash, "version": r.version, "verified": r.verified} for r in records
            ],
        )

    def rebuild(self) -> RepairReport:
        """Throw the index away and make it again from tools/ (what `open` does when it must)."""
        if self.settings.chroma_url:
            with contextlib.suppress(Exception):
                self._client.delete_collection(COLLECTION)
        else:
            self._drop_local_index()
        report = RepairReport(rebuilt=True, reason="rebuild requested")
        self._connect()
        self._sync(report)
        return report

    def close(self) -> None:
        self._client = self._collection = None

    # --- library ----------------------------------------------------------------------

    def _need_open(self) -> None:
        if self._collection is None:
            raise RegistryError("the library is not open yet")

    def add(
        self,
        name: str,
        tool_source: str,
        test_source: str,
        spec: dict[str, Any],
        *,
        verdict: dict[str, Any] | None,
        model: str = "",
        source: str = "synthesized",
        request_id: str = "",
        approved: bool = True,
    ) -> ToolRecord:
        self._need_open()
        record = self.store.save(
            name,
            tool_source,
            test_source,
            spec,
            verdict=verdict,
            model=model,
            source=source,
            approved=approved,
        )
        self._upsert([record])
        if self.bus is not None:
            self.bus.publish(ToolRegistered(name=name, version=record.version, request_id=request_id))
        return record

    def get(self, name: str) -> Tool:
        return self.store.load(name)

    def list(self) -> list[ToolRecord]:
        return self.store.records()

    def history(self, name: str) -> list[ToolRecord]:
        return self.store.history(name)

    def remove(self, name: str) -> None:
        self._need_open()
        self.store.remove(name)
        self._collection.delete(ids=[name])
        if self.bus is not None:
            self.bus.publish(ToolRemoved(name=name))

    def record_use(self, name: str) -> None:
        record = self.store.record(name)
        self.store.update(name, usage_count=record.usage_count + 1)

    def approve(self, name: str) -> ToolRecord:
        return self.store.update(name, approved=True)

    def set_verdict(self, name: str, verdict: dict[str, Any]) -> ToolRecord:
        self._need_open()
        record = self.store.update(name, verdict=verdict)
        self._upsert([record])
        return record

    def search(self, query: str, k: int = 5) -> SearchResult:
        self._need_open()
        count = self._collection.count()
        if count == 0 or not query.strip():
            return SearchResult(query, (), self.threshold, self.settings.candidate_threshold)
        got = self._collection.query(
            query_embeddings=[self.embedder.encode_one(query)],
            n_results=min(k, count),
            include=["distances", "metadatas"],
        )
        candidates = tuple(
            Candidate(
                name=i,
                score=1.0 - float(d),
                verified=bool((m or {}).get("verified")),
                version=int((m or {}).get("version", 0)),
            )
            for i, d, m in zip(got["ids"][0], got["distances"][0], got["metadatas"][0], strict=False)
        )
        return SearchResult(query, candidates, self.threshold, self.settings.candidate_threshold)

    # --- sharing ----------------------------------------------------------------------

    def import_dir(self, directory: Path, *, verify: Any = None, source: str = "imported") -> ToolRecord:
        """Register the tool in ``directory`` (tool.py, test_tool.py, tool.json with its spec).
        ``verify(tool, tests, function) -> Verdict``: when given, a red verdict refuses it."""
        tool_source, test_source, spec, meta = read_tool_dir(directory)
        name = meta.get("name") or spec.function_name
        verdict = None
        if verify is not None:
            result = verify(tool_source, test_source, spec.function_name)
            if not result.passed:
                raise RegistryError(f"{name} failed verification ({result.reason}): {result.detail}")
            verdict = verdict_record(result)
        return self.add(
            name,
            tool_source,
            test_source,
            spec.model_dump(),
            verdict=verdict,
            model=meta.get("model", ""),
            source=source,
        )

    def import_starters(self, verify: Any = None) -> list[str]:
        """Bring the shipped starter tools into a library that has never had them."""
        marker = self.settings.tools_dir / STARTERS_MARKER
        if marker.exists() or self.store.names():
            return []
        imported = []
        for directory in sorted(p for p in STARTER_DIR.iterdir() if (p / META_FILE).exists()):
            self.import_dir(directory, verify=verify, source="starter")
            imported.append(directory.name)
        marker.write_text("\n".join(imported) + "\n")
        return imported


def read_tool_dir(directory: Path) -> tuple[str, str, ToolSpec, dict[str, Any]]:
    """tool.py, test_tool.py and the spec (with the rest of tool.json) of an exported or
    starter tool; RegistryError says in one line what is wrong."""
    try:
        tool_source = (directory / TOOL_FILE).read_text(encoding="utf-8")
        test_source = (directory / TEST_FILE).read_text(encoding="utf-8")
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{directory} is not a tool directory ({exc})") from None
    try:
        spec = ToolSpec.model_validate(meta.get("spec", meta))
    except ValueError as exc:
        raise RegistryError(
            f"{directory}/{META_FILE} has no valid spec: {str(exc).splitlines()[0]}"
        ) from None
    return tool_source, test_source, spec, meta


def verdict_record(verdict: Any) -> dict[str, Any]:
    """What tool.json keeps of a Verdict: everything but an over-long output."""
    data = verdict.to_dict()
    data["output"] = data.get("output", "")[-8000:]
    return data
