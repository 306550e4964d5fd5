"""The embedded default model, for real: a structured request through the same client, and a
server that dies with us. CI runs these: they prove the default works on a fresh machine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pydantic import BaseModel, Field

from tui_agent.core.config import load_settings
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.llm.model_pull import is_verified

pytestmark = pytest.mark.local_model
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture
def model_file(monkeypatch: pytest.MonkeyPatch) -> Path:
    """The model the set-up command pulled into the default home."""
    path = shared_model_file()
    assert is_verified(path), (
        f"{path} missing or unverified: run ./scripts/setup.sh (it runs `selfeng-tui model pull`)"
    )
    monkeypatch.setenv("SELFENG_LOCAL_MODEL_FILE", str(path))
    return path


class FunctionSpec(BaseModel):
    function_name: str = Field(pattern=r"^[a-z_][a-z0-9_]*$")
    parameters: list[str]
    return_type: str


async def test_real_structured_request_to_the_local_model(model_file: Path) -> None:
    llm = LLMClient(load_settings())
    try:
        spec = await llm.structured(
            [
                {
                    "role": "user",
                    "content": "Specify a Python function that reverses a string. Name it reverse_string.",
                }
            ],
            FunctionSpec,
            purpose="spec",
            max_tokens=200,
        )
        assert spec.function_name == "reverse_string"
        assert len(spec.parameters) == 1
        assert llm.session.calls >= 1 and llm.session.completion_tokens > 0
        assert llm.local is not None and llm.local.state == "ready"
    finally:
        await llm.aclose()
    assert llm.local.state == "stopped"


HARNESS = """
import asyncio, sys
from tui_agent.core.config import load_settings
from tui_agent.core.llm.local_model import LocalModelServer
server = LocalModelServer(load_settings())
asyncio.run(server.ensure_started())
print(server.pid, flush=True)
sys.stdin.read()
"""


def test_the_server_does_not_outlive_a_killed_app(model_file: Path) -> None:
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert harness.stdout is not None
    server_pid = int(harness.stdout.readline())
    assert Path(f"/proc/{server_pid}").exists()
    harness.send_signal(signal.SIGKILL)
    harness.wait()
    deadline = time.monotonic() + 5
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server_pid)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"
