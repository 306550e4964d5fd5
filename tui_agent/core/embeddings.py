"""Sentence embeddings, offline. The model is resolved on disk (the default's weights are
sha256-checked), loaded once per process, and never fetched from a hub."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from tui_agent.core.model_paths import resolve_embedding_model

_models: dict[Path, object] = {}
_lock = threading.Lock()


class Embedder:
    """Normalised vectors for texts. Blocking: call it off the event loop."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._path: Path | None = None

    @property
    def path(self) -> Path:
        if self._path is None:
            self._path = resolve_embedding_model(self.name)
        return self._path

    def _model(self):  # type: ignore[no-untyped-def]
        path = self.path
        with _lock:
            model = _models.get(path)
            if model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer

                model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
                _models[path] = model
            return model

    def load(self) -> None:
        self._model()

    def encode(self, texts: list[str]) -> list[list[float]]:
        if not texts:
            return []
        vectors = self._model().encode(
            texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False, convert_to_numpy=True
        )
        return [v.tolist() for v in vectors]

    def encode_one(self, text: str) -> list[float]:
        return self.encode([text])[0]
