"""One typed Settings object for the whole app.

Precedence, lowest to highest: defaults < ``config.toml`` in the user config dir <
``SELFENG_*`` environment < CLI flags (passed as keyword arguments). A bad value anywhere
raises :class:`ConfigError` whose message is one line naming the setting and what is allowed.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import AliasChoices, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

APP_NAME = "selfeng"
CONFIG_FILE_ENV = "SELFENG_CONFIG"

SandboxBackend = Literal["auto", "docker", "bwrap"]


class ConfigError(Exception):
    """A setting has a value we cannot start with; ``str()`` is a one-line, actionable message."""


def default_config_file() -> Path:
    override = os.environ.get(CONFIG_FILE_ENV)
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def default_home() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def _env(name: str, *fallbacks: str) -> AliasChoices:
    """Environment names for a field that also honours a standard variable (e.g. OPENAI_API_KEY);
    the field's own name still works in config.toml and as a keyword (populate_by_name)."""
    return AliasChoices(f"SELFENG_{name.upper()}", *fallbacks)


class Settings(BaseSettings):
    """Every knob of the app. Field names are the keys of ``config.toml`` and, upper-cased with
    the ``SELFENG_`` prefix, the environment variables."""

    model_config = SettingsConfigDict(
        env_prefix="SELFENG_",
        extra="forbid",
        validate_default=True,
        populate_by_name=True,
    )

    home: Path = Field(
        default_factory=default_home, description="Where tools, index, journal and models live."
    )

    # LLM: no base URL means the embedded local model.
    llm_base_url: str | None = Field(
        default=None,
        validation_alias=_env("llm_base_url", "OPENAI_BASE_URL"),
        description="OpenAI-compatible endpoint; unset means the embedded local model.",
    )
    llm_model: str = Field(default="qwen2.5-coder-1.5b-instruct", min_length=1)
    llm_api_key: SecretStr | None = Field(
        default=None, validation_alias=_env("llm_api_key", "OPENAI_API_KEY")
    )
    llm_timeout: float = Field(default=120.0, gt=0, le=3600, description="Seconds per LLM call.")
    llm_retries: int = Field(default=3, ge=0, le=10, description="Retries on 429/5xx/connection errors.")
    structured_retries: int = Field(default=2, ge=0, le=5, description="Re-asks after invalid JSON.")

    # The embedded local model.
    local_model_file: Path | None = Field(default=None, description="GGUF file; default in model_cache.")
    model_cache: Path = Field(
        default_factory=lambda: Path(platformdirs.user_cache_dir(APP_NAME)) / "models",
        description="downloaded models, shared by every home",
    )
    local_model_threads: int = Field(default=2, ge=1, le=256)
    local_model_ctx: int = Field(default=4096, ge=512, le=131072)
    local_model_cache_mb: int = Field(
        default=256, ge=0, le=65536, description="RAM for the local model's prompt cache (MB); 0: none."
    )
    local_model_start_timeout: float = Field(default=120.0, gt=0)
    local_model_lookup: int = Field(
        default=0,
        ge=0,
        le=64,
        description="prompt-lookup decoding: tokens drafted from the prompt per step (0: off)",
    )

    # Library and index.
    chroma_url: str | None = Field(
        default=None, description="Chroma server; unset means an embedded index under home."
    )
    embedding_model: str = Field(default="all-MiniLM-L6-v2", min_length=1)
    # Calibrated by benchmarks/registry.py: verified tools scoring at or above candidate_threshold
    # (dense + lexical_weight * BM25) are held against the request, fit_checks of them at most;
    # similarity_threshold marks a strong match in `tools search`.
    similarity_threshold: float = Field(default=0.675, ge=0.0, le=2.0)
    candidate_threshold: float = Field(default=0.2, ge=0.0, le=2.0)
    lexical_weight: float = Field(default=0.15, ge=0.0, le=1.0, description="BM25's share of a search score")
    input_file_mb: int = Field(default=50, ge=1, le=4096, description="the largest file a tool may be given")
    phrase_answers: bool = Field(
        default=False, description="the model words plain answers too (else a template)"
    )
    fit_checks: int = Field(
        default=2, ge=1, le=5, description="candidates checked with the model before making a new tool"
    )

    # Sandbox.
    sandbox: SandboxBackend = "auto"
    sandbox_image: str = Field(default="selfeng-sandbox:latest", min_length=1)
    sandbox_timeout: float = Field(default=20.0, gt=0, le=600, description="Wall-clock seconds per run.")
    sandbox_memory_mb: int = Field(default=256, ge=32, le=65536)
    sandbox_cpus: float = Field(default=1.0, gt=0, le=64)
    sandbox_pids: int = Field(default=64, ge=8, le=4096)
    sandbox_tmp_mb: int = Field(default=16, ge=1, le=4096)
    sandbox_output_kb: int = Field(default=256, ge=4, le=65536, description="Captured output cap.")
    sandbox_pool: int = Field(default=2, ge=0, le=16, description="Pre-created Docker containers.")

    # Synthesis.
    repair_attempts: int = Field(default=3, ge=0, le=10)
    # ask: a newly synthesised tool runs only after someone has seen its code and said yes.
    approve_new_tools: Literal["ask", "auto"] = "ask"
    import_starters: bool = Field(default=True, description="bring the starter tools into a new library")

    theme: str = Field(default="textual-dark", min_length=1)

    @model_validator(mode="after")
    def _thresholds(self) -> Settings:
        if self.candidate_threshold > self.similarity_threshold:
            raise ValueError("candidate_threshold must not be above similarity_threshold")
        return self

    @field_validator("llm_base_url", "chroma_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("home", "local_model_file", "model_cache")
    @classmethod
    def _expand(cls, value: Path | None) -> Path | None:
        # absolute: a relative home would reach the sandbox (a bind mount) as a volume name
        return value.expanduser().absolute() if value is not None else None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (
            init_settings,
            env_settings,
            TomlConfigSettingsSource(settings_cls, toml_file=default_config_file()),
        )

    # Derived locations: one place that knows the on-disk layout.
    @property
    def tools_dir(self) -> Path:
        return self.home / "tools"

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @property
    def journal_dir(self) -> Path:
        return self.home / "journal"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"


def _describe(error: dict[str, Any]) -> str:
    name = ".".join(str(part) for part in error["loc"]) or "settings"
    if error["type"] == "extra_forbidden":
        return f"{name}: unknown setting (see `selfeng-tui config` for the valid names)"
    got = error.get("input")
    shown = f" (got {got!r})" if not isinstance(got, dict) else ""
    return f"{name}: {error['msg']}{shown}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings from every source; CLI flags come in as ``overrides`` (None = not given)."""
    given = {key: value for key, value in overrides.items() if value is not None}
    path = default_config_file()
    if path.exists():
        try:
            tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"invalid setting file {path}: {exc}") from None
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigError(f"invalid setting {_describe(first)}") from None
