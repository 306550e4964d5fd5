"""Helpers for sandbox tests: real backends with small limits, and leftover checks."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import docker
import pytest

from tui_agent.core.bus import EventBus
from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox
from tui_agent.core.sandbox.docker_backend import LABEL, OWNER_LABEL, DockerSandbox, owner_tag
from tui_agent.core.sandbox.image import build_image
from tui_agent.core.sandbox.results import Limits
from tui_agent.core.tool.cases import TestCase

IMAGE = "selfeng-sandbox:latest"
TEST_LIMITS = Limits(timeout_s=4.0, memory_mb=128, cpus=1.0, pids=32, tmp_mb=4, output_bytes=64 * 1024)
GRACE_S = 4.0
BACKENDS = [pytest.param("docker", marks=pytest.mark.docker), pytest.param("bwrap", marks=pytest.mark.bwrap)]

HONEST_TOOL = '''
def percentage_of(value: float, percent: float) -> float:
    """percent % of value."""
    if not isinstance(value, (int, float)) or not isinstance(percent, (int, float)):
        raise TypeError("numbers only")
    return value * percent / 100
'''

HONEST_CASES = [
    TestCase(name="fifteen_percent_of_300", args={"value": 300, "percent": 15}, expected=45),
    TestCase(name="half", args={"value": 200, "percent": 50}, expected=100.0),
    TestCase(name="none", args={"value": 80, "percent": 0}, expected=0),
    TestCase(name="double", args={"value": 10, "percent": 200}, expected=20.0),
    TestCase(name="negative", args={"value": -50, "percent": 10}, expected=-5),
    TestCase(name="rejects_text", args={"value": "300", "percent": 15}, raises="TypeError"),
]


def ensure_image() -> None:
    """A no-op when the set-up already built the current recipe."""
    client = docker.from_env()
    try:
        build_image(client, IMAGE, say=lambda _msg: None)
    finally:
        client.close()


def make(backend: str, work_root: Path, limits: Limits = TEST_LIMITS, bus: EventBus | None = None) -> Sandbox:
    if backend == "docker":
        ensure_image()
        return DockerSandbox(limits, work_root, bus, image=IMAGE, pool_size=1)
    return BubblewrapSandbox(limits, work_root, bus)


def labelled_containers(owner: str | None = None) -> list[str]:
    """Our sandbox's containers; ``owner``: only those of that process (another process on this
    machine, a dashboard or a benchmark, may be running its own)."""
    filters = [LABEL] + ([f"{OWNER_LABEL}={owner}"] if owner else [])
    client = docker.from_env()
    try:
        return [c["Id"] for c in client.api.containers(all=True, filters={"label": filters})]
    finally:
        client.close()


def processes_matching(pattern: str) -> list[str]:
    result = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if "pgrep" not in line]


def bwrap_runners() -> list[str]:
    return processes_matching("/opt/selfeng/runner.py")


def leaving_nothing_behind(backend: str, work_root: Path, limits: Limits = TEST_LIMITS) -> Iterator[Sandbox]:
    """A sandbox for one test that fails the test if a workspace, container or process outlives it."""
    box = make(backend, work_root, limits)
    yield box
    box.close()
    assert not list(work_root.glob("ws-*")), "a workspace was left on the host"
    if backend == "docker":
        assert labelled_containers(owner_tag()) == [], "a container was left behind"
    else:
        assert bwrap_runners() == [], "a sandboxed process was left behind"
