"""The harness killed mid-run: nothing it started survives, and the next start sweeps what a
crash can leave (containers, workspaces, cgroups)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.sandbox_support import bwrap_runners, labelled_containers, make
from tui_agent.core.sandbox.docker_backend import owner_tag
from tui_agent.core.sandbox.results import Limits

REPO = Path(__file__).resolve().parent.parent
HARNESS = """
import sys
from pathlib import Path
from tests.sandbox_support import make
from tui_agent.core.sandbox.results import Limits
box = make(sys.argv[1], Path(sys.argv[2]), Limits(timeout_s=120))
print("running", flush=True)
box.call_sync("def spin():\\n    while True:\\n        pass\\n", "spin", {}, gate=False)
"""


def _wait_for(check, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    "backend",
    [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)],
)
def test_killed_harness_leaves_nothing_after_the_next_start(backend: str, tmp_path: Path) -> None:
    work = tmp_path / "work"
    harness = subprocess.Popen(
        [sys.executable, "-c", HARNESS, backend, str(work)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    harness_tag = f"{socket.gethostname()}:{harness.pid}"  # its containers, not another process's
    try:
        assert harness.stdout is not None and harness.stdout.readline().strip() == "running"
        if backend == "docker":
            assert _wait_for(lambda: any(_running(c) for c in labelled_containers(harness_tag)))
        else:
            assert _wait_for(lambda: bwrap_runners() != [])
        assert list(work.glob("ws-*")), "the run's workspace should exist while it runs"
    finally:
        harness.send_signal(signal.SIGKILL)
        harness.wait()

    box = make(backend, work, Limits(timeout_s=5))  # the next start sweeps
    box.close()
    assert labelled_containers(harness_tag) == [] and labelled_containers(owner_tag()) == []
    assert _wait_for(lambda: bwrap_runners() == [], timeout=5), bwrap_runners()
    assert list(work.glob("ws-*")) == []
    assert not list(Path("/sys/fs/cgroup/pids").rglob(f"selfeng-{harness.pid}-*"))


def _running(container_id: str) -> bool:
    import docker

    client = docker.from_env()
    try:
        return client.api.inspect_container(container_id)["State"]["Running"]
    finally:
        client.close()
