"""The search index: ChromaDB, embedded under ``home/index`` or a shared server. Derived data:
everything in it can be rebuilt from ``tools/``, so any failure to read it means "rebuild"."""

from __future__ import annotations

import contextlib
import os
import shutil
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from tui_agent.core.config import Settings
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec

COLLECTION = "selfeng_tools"


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


def index_text(record: ToolRecord) -> str:
    try:
        return ToolSpec.model_validate(record.spec).search_text()
    except ValueError:
        return f"{record.name.replace('_', ' ')}: {record.spec.get('description', '')}"


class SearchIndex:
    """One Chroma collection of tool vectors, keyed by tool name, with each tool's content hash
    and version as metadata (so a sync can tell what changed)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.client: Any = None
        self.collection: Any = None

    @property
    def remote(self) -> bool:
        return bool(self.settings.chroma_url)

    def connect(self) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
        chroma_settings = ChromaSettings(anonymized_telemetry=False, allow_reset=True)
        if self.settings.chroma_url:
            url = urlparse(self.settings.chroma_url)
            self.client = chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
        else:
            self.settings.index_dir.mkdir(parents=True, exist_ok=True)
            self.client = chromadb.PersistentClient(
                path=str(self.settings.index_dir), settings=chroma_settings
            )
        self.collection = self.client.get_or_create_collection(
            COLLECTION, metadata={"hnsw:space": "cosine"}, embedding_function=None
        )
        self.collection.count()  # touches the storage: a corrupt file fails here

    def drop(self) -> None:
        """Forget the index: the server's collection, or the local directory."""
        if self.remote:
            with contextlib.suppress(Exception):
                self.client.delete_collection(COLLECTION)
            return
        from chromadb.api.client import SharedSystemClient

        self.client = self.collection = None
        SharedSystemClient.clear_system_cache()
        shutil.rmtree(self.settings.index_dir, ignore_errors=True)

    def close(self) -> None:
        self.client = self.collection = None

    def close_local(self) -> None:
        """Let go of the embedded index so the next connect reads it from disk again: another
        process may have written to it, and an open client's view would not show that."""
        if self.remote:
            return
        from chromadb.api.client import SharedSystemClient

        self.client = self.collection = None
        SharedSystemClient.clear_system_cache()

    @property
    def is_open(self) -> bool:
        return self.collection is not None

    def state(self) -> dict[str, str]:
        """Tool name -> the content hash it was indexed with."""
        got = self.collection.get(include=["metadatas"])
        return {
            i: (m or {}).get("hash", "") for i, m in zip(got["ids"], got["metadatas"] or [], strict=False)
        }

    def upsert(self, records: list[ToolRecord], vectors: list[list[float]]) -> None:
        texts = [index_text(r) for r in records]
        self.collection.upsert(
            ids=[r.name for r in records],
            embeddings=vectors,
            documents=texts,
            metadatas=[{"hash": r.index_key, "version": r.version, "verified": r.verified} for r in records],
        )

    def delete(self, names: list[str]) -> None:
        if names:
            self.collection.delete(ids=names)

    def count(self) -> int:
        return int(self.collection.count())

    def query(self, vector: list[float], k: int) -> list[Candidate]:
        got = self.collection.query(
            query_embeddings=[vector], n_results=k, include=["distances", "metadatas"]
        )
        return [
            Candidate(
                name=i,
                score=1.0 - float(d),
                verified=bool((m or {}).get("verified")),
                version=int((m or {}).get("version", 0)),
            )
            for i, d, m in zip(got["ids"][0], got["distances"][0], got["metadatas"][0], strict=False)
        ]
