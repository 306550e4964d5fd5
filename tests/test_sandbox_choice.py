"""Which backend runs untrusted code, and the refusal when there is none."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_agent.core.config import load_settings
from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox
from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox
from tui_agent.core.sandbox.docker_backend import DockerSandbox

EXE = Path(sys.executable).parent / "selfeng-tui"


@pytest.mark.docker
def test_auto_prefers_docker() -> None:
    box = make_sandbox(load_settings(sandbox_pool=0))
    try:
        assert isinstance(box, DockerSandbox)
    finally:
        box.close()


def test_auto_falls_back_to_bwrap_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    box = make_sandbox(load_settings())
    assert isinstance(box, BubblewrapSandbox)
    assert box.call_sync("def f():\n    return 7\n", "f", {}).value == 7


def test_docker_only_refuses_without_an_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    with pytest.raises(SandboxUnavailable, match="no Docker engine answers"):
        make_sandbox(load_settings(sandbox="docker"))


def test_neither_backend_means_nothing_runs_and_says_how(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on PATH
    with pytest.raises(SandboxUnavailable) as info:
        make_sandbox(load_settings())
    message = str(info.value)
    assert "will not run" in message and "apt-get install bubblewrap" in message and "dockerd" in message


@pytest.mark.docker
@pytest.mark.bwrap
def test_sandbox_check_reports_every_probe_stopped_on_both_backends() -> None:
    result = subprocess.run(
        [str(EXE), "sandbox", "check", "--backend", "all", "--json", "--set", "sandbox_timeout=3"],
        capture_output=True,
        text=True,
        timeout=300,
        env=os.environ.copy(),
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = json.loads(result.stdout)
    assert {r["backend"] for r in rows} == {"docker", "bwrap"}
    layers = {r["layer"] for r in rows}
    assert {
        "memory limit",
        "process limit",
        "network namespace",
        "static gate",
        "the host judges",
    } <= layers
    assert all(r["stopped"] for r in rows), [r for r in rows if not r["stopped"]]
