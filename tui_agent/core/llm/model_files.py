"""Where the local LLM's weights are on disk. Nothing here downloads: a model is found locally or the
caller is told the command that puts it there."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tui_agent.core.config import Settings

LOCAL_MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class ModelFileError(Exception):
    """A model is missing or is not the file we expect; the message says what to run."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def local_model_file(settings: Settings) -> Path:
    """The local model: the file a setting names, else the one in the cache every home shares;
    a home that predates the shared cache keeps the copy it has."""
    if settings.local_model_file is not None:
        return settings.local_model_file
    shared = settings.model_cache / LOCAL_MODEL_FILENAME
    legacy = settings.models_dir / LOCAL_MODEL_FILENAME
    return legacy if legacy.exists() and not shared.exists() else shared


def earlier_copies(settings: Settings) -> list[Path]:
    """Where a model pulled before the shared cache may be: this home, and the default home."""
    from tui_agent.core.config import default_home

    found = [settings.models_dir / LOCAL_MODEL_FILENAME, default_home() / "models" / LOCAL_MODEL_FILENAME]
    return [p for p in dict.fromkeys(found) if p.is_file()]


def shared_model_file() -> Path:
    """Where `selfeng-tui model pull` puts the local model by default (for tests and benchmarks)."""
    from tui_agent.core.config import load_settings

    return load_settings().model_cache / LOCAL_MODEL_FILENAME
