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

COLLECTION = "selfeng_tools"


@dataclass(frozen=True)
class Candidate:
    """A tool the search found: ``score`` combines the best ``dense`` (embedding cosine) and
    ``lexical`` (BM25, mapped into [0, 1)) matches over its phrasings; ``matched`` is the
    phrasing that matched best."""

    name: str
    score: float
    verified: bool
    version: int
    dense: float = 0.0
    lexical: float = 0.0
    matched: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "score": round(self.score, 4),
            "dense": round(self.dense, 4),
            "lexical": round(self.lexical, 4),
            "verified": self.verified,
            "version": self.version,
            "matched": self.matched,
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
        """A strong match: the top verified candidate at or above the threshold."""
        top = self._top_verified()
        return top if top is not None and top.score >= self.threshold else None

    @property
    def plausible(self) -> Candidate | None:
        """A tool worth checking: the top verified candidate at or above candidate_threshold."""
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


CLOSE = 0.03  # search scores this close say nothing about which tool is better


def trouble_last(ranked: list[Candidate], trouble: dict[str, int]) -> list[Candidate]:
    """Among candidates within ``CLOSE`` of each other, one with more corrections and failures
    on its record goes below one with fewer."""
    ordered = list(ranked)
    for i in range(len(ordered) - 1):
        for j in range(len(ordered) - 1 - i):
            a, b = ordered[j], ordered[j + 1]
            if a.score - b.score < CLOSE and trouble.get(a.name, 0) > trouble.get(b.name, 0):
                ordered[j], ordered[j + 1] = b, a
    return ordered


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
        """Tool name -> the index key it was indexed with (every document of a tool has it)."""
        got = self.collection.get(include=["metadatas"])
        found: dict[str, str] = {}
        for meta in got["metadatas"] or []:
            meta = meta or {}
            found[str(meta.get("tool", ""))] = str(meta.get("hash", ""))
        found.pop("", None)
        return found

    def upsert(self, records: list[ToolRecord], texts: list[list[str]], vectors: list[list[float]]) -> None:
        """Replace each tool's documents: ``texts[i]`` are record i's phrasings, ``vectors`` all
        of them in order."""
        self.delete([r.name for r in records])
        ids, documents, metadatas = [], [], []
        for record, phrasings in zip(records, texts, strict=True):
            meta = {
                "tool": record.name,
                "hash": record.index_key,
                "version": record.version,
                "verified": record.verified,
            }
            for k, text in enumerate(phrasings):
                ids.append(f"{record.name}#{k}")
                documents.append(text)
                metadatas.append(meta)
        for start in range(0, len(ids), 4000):
            end = start + 4000
            self.collection.upsert(
                ids=ids[start:end],
                embeddings=vectors[start:end],
                documents=documents[start:end],
                metadatas=metadatas[start:end],
            )

    def delete(self, names: list[str]) -> None:
        if names:
            self.collection.delete(where={"tool": {"$in": list(names)}})

    def count(self) -> int:
        return int(self.collection.count())

    def documents(self) -> list[tuple[str, str]]:
        """Every (tool, text) the index holds, for the lexical half."""
        got = self.collection.get(include=["metadatas", "documents"])
        return [
            (str((m or {}).get("tool", "")), str(d or ""))
            for m, d in zip(got["metadatas"] or [], got["documents"] or [], strict=False)
        ]

    def query(self, vector: list[float], k: int, only: list[str] | None = None) -> list[Candidate]:
        """The ``k`` best tools by their best-matching document (``only``: among these tools)."""
        count = self.count()
        if count == 0:
            return []
        where = {"tool": {"$in": only}} if only else None
        got = self.collection.query(
            query_embeddings=[vector],
            n_results=min(count, max(k * 8, 32)),
            include=["distances", "metadatas", "documents"],
            where=where,
        )
        best: dict[str, Candidate] = {}
        for d, m, doc in zip(got["distances"][0], got["metadatas"][0], got["documents"][0], strict=False):
            m = m or {}
            name = str(m.get("tool", ""))
            score = 1.0 - float(d)
            if name and (name not in best or score > best[name].dense):
                best[name] = Candidate(
                    name,
                    score,
                    bool(m.get("verified")),
                    int(m.get("version", 0)),
                    dense=score,
                    matched=doc or "",
                )
        return sorted(best.values(), key=lambda c: -c.dense)[:k]
