"""Shared fixtures: every test gets a private home and config file and a clean environment, so
nothing a developer has set (or a previous test wrote) can leak in."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_llm import FakeLLM
from tests.scripted_model import ScriptedModel
from tui_agent.core.config import load_settings
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.sandbox import Sandbox, make_sandbox

LEAKY_PREFIXES = ("SELFENG_", "OPENAI_")


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for key in list(os.environ):
        if key.startswith(LEAKY_PREFIXES):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("SELFENG_HOME", str(home))
    monkeypatch.setenv("SELFENG_CONFIG", str(tmp_path / "config.toml"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home


@pytest.fixture
def config_file(tmp_path: Path) -> Path:
    return tmp_path / "config.toml"


@pytest.fixture
def fake_llm() -> Iterator[FakeLLM]:
    with FakeLLM() as server:
        yield server


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    """The real embedding model, loaded once per module: loading is the slow part."""
    model = Embedder("all-MiniLM-L6-v2")
    model.load()
    return model


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    """The sandbox the settings choose, one warm slot. Sandbox tests override this with both backends."""
    box = make_sandbox(load_settings(sandbox_pool=1))
    yield box
    box.close()


@pytest.fixture
def model() -> Iterator[ScriptedModel]:
    """A stand-in model that answers each step from its own queue of scripted replies."""
    with ScriptedModel() as scripted:
        yield scripted
