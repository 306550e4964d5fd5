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
    return settings.local_model_file or settings.models_dir / LOCAL_MODEL_FILENAME
