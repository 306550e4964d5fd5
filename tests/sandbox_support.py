"""Helpers for sandbox tests: real backends with small limits, and leftover checks."""

from __future__ import annotations

import subprocess
from pathlib import Path

import docker

from tui_agent.core.bus import EventBus
from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox
from tui_agent.core.sandbox.docker_backend import LABEL, DockerSandbox
from tui_agent.core.sandbox.image import build_image
from tui_agent.core.sandbox.results import Limits

IMAGE = "selfeng-sandbox:latest"
TEST_LIMITS = Limits(timeout_s=4.0, memory_mb=128, cpus=1.0, pids=32, tmp_mb=4, output_bytes=64 * 1024)
GRACE_S = 4.0


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


def labelled_containers() -> list[str]:
    client = docker.from_env()
    try:
        return [c["Id"] for c in client.api.containers(all=True, filters={"label": LABEL})]
    finally:
        client.close()


def processes_matching(pattern: str) -> list[str]:
    result = subprocess.run(["pgrep", "-af", pattern], capture_output=True, text=True)
    return [line for line in result.stdout.splitlines() if "pgrep" not in line]


def bwrap_runners() -> list[str]:
    return processes_matching("/opt/selfeng/runner.py")
