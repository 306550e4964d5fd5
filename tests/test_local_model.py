"""The embedded default model, for real: a structured request through the same client, and a
server that dies with us. CI runs these: they prove the default works on a fresh machine."""

from __future__ import annotations

import asyncio
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


def harness() -> subprocess.Popen[str]:
    """A process that starts (or finds) the local model server, prints its pid and waits."""
    return subprocess.Popen(
        [sys.executable, "-c", HARNESS],
        cwd=REPO,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )


def test_the_server_does_not_outlive_a_killed_app(model_file: Path) -> None:
    harness_ = harness()
    assert harness_.stdout is not None
    server_pid = int(harness_.stdout.readline())
    assert Path(f"/proc/{server_pid}").exists()
    harness_.send_signal(signal.SIGKILL)
    harness_.wait()
    deadline = time.monotonic() + 5
    while _alive(server_pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(server_pid)


def test_processes_on_one_machine_share_one_model_server(model_file: Path) -> None:
    """Two processes that need the local model use one server, even one too busy to answer at
    once; it outlives the first (killed) and goes with the last."""

    harnesses = [harness()]
    pids = [int(harnesses[0].stdout.readline())]  # type: ignore[union-attr]
    # busy with another process's request, a server can be slow to say hello: it is still found
    os.kill(pids[0], signal.SIGSTOP)
    try:
        harnesses.append(harness())
        pids.append(int(harnesses[1].stdout.readline()))  # type: ignore[union-attr]
    finally:
        os.kill(pids[0], signal.SIGCONT)
    assert pids[0] == pids[1] and _alive(pids[0])
    servers = [p for p in Path("/proc").iterdir() if p.name.isdigit() and _is_model_server(p)]
    assert [int(p.name) for p in servers] == [pids[0]]
    from tui_agent.core.llm.local_model import LocalModelServer

    users = LocalModelServer(load_settings()).shared.users
    assert len(list(users.iterdir())) == 2
    harnesses[0].send_signal(signal.SIGKILL)
    harnesses[0].wait()
    deadline = time.monotonic() + 5  # the server sees the killed user gone and forgets it
    while len(list(users.iterdir())) > 1 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(list(users.iterdir())) == 1 and _alive(pids[0])
    harnesses[1].send_signal(signal.SIGKILL)
    harnesses[1].wait()
    deadline = time.monotonic() + 5
    while _alive(pids[0]) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(pids[0])


def _is_model_server(proc: Path) -> bool:
    try:
        return "tui_agent.core.llm.llama_server" in (proc / "cmdline").read_text()
    except OSError:
        return False


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def test_a_killed_model_server_is_started_again_for_the_next_call(model_file: Path) -> None:
    """The server can die under us (the kernel's OOM killer, a crash): the call in flight fails
    with a line that says so, the next one gets a new server."""
    llm = LLMClient(load_settings())
    ask = [{"role": "user", "content": "Say OK."}]
    try:
        await llm.complete(ask, purpose="test", max_tokens=2)
        assert llm.local is not None and llm.local.pid is not None
        first = llm.local.pid
        os.killpg(first, signal.SIGKILL)
        for _ in range(100):  # the kill lands asynchronously
            if llm.local.died is not None:
                break
            await asyncio.sleep(0.05)
        assert llm.local.died is not None
        assert await llm.complete(ask, purpose="test", max_tokens=2)
        assert llm.local.pid not in (None, first) and llm.local.state == "ready"
    finally:
        await llm.aclose()


def test_the_prompt_cache_keeps_no_logits_copy() -> None:
    """Each cached prompt state used to hold a copy of the whole logits buffer, uncounted: 22 GB
    and an OOM kill after a few dozen requests. The cache keeps one row."""
    import numpy as np
    from llama_cpp.llama import LlamaState

    from tui_agent.core.llm.llama_server import SlimRAMCache

    cache = SlimRAMCache(capacity_bytes=100)
    state = LlamaState(np.arange(3, dtype=np.intc), np.ones((128, 1000), np.single), 3, b"kv", 2, 0)
    cache[[1, 2, 3]] = state
    kept = cache[[1, 2, 3, 4]]
    assert kept.scores.shape == (1, 1000) and kept.llama_state == b"kv"
