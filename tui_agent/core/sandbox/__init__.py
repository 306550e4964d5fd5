"""Sandboxed verification and execution of untrusted tool code.

``make_sandbox(settings)`` picks the backend the ``sandbox`` setting asks for (auto: Docker,
then bubblewrap); with neither, it raises SandboxUnavailable and nothing untrusted runs."""

from __future__ import annotations

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.sandbox.results import (
    CallResult,
    Counts,
    Limits,
    Reason,
    SandboxError,
    SandboxUnavailable,
    TestOutcome,
    Verdict,
)

__all__ = [
    "CallResult",
    "Counts",
    "Limits",
    "Reason",
    "Sandbox",
    "SandboxError",
    "SandboxUnavailable",
    "TestOutcome",
    "Verdict",
    "limits_from",
    "make_sandbox",
]

NO_BACKEND = (
    "no sandbox available, so generated code will not run: start a Docker engine "
    "(apt-get install docker.io; dockerd &) and run `selfeng-tui sandbox build`, "
    "or install bubblewrap (apt-get install bubblewrap python3-pytest)"
)


def limits_from(settings: Settings) -> Limits:
    return Limits(
        timeout_s=settings.sandbox_timeout,
        memory_mb=settings.sandbox_memory_mb,
        cpus=settings.sandbox_cpus,
        pids=settings.sandbox_pids,
        tmp_mb=settings.sandbox_tmp_mb,
        output_bytes=settings.sandbox_output_kb * 1024,
        input_bytes=settings.input_file_mb * 1024 * 1024,
    )


def make_sandbox(settings: Settings, bus: EventBus | None = None, *, backend: str | None = None) -> Sandbox:
    """The configured backend, ready to run; SandboxUnavailable says why not and how to fix it."""
    choice = backend or settings.sandbox
    limits = limits_from(settings)
    work_root = settings.home / "sandbox"
    reasons: list[str] = []
    if choice in ("auto", "docker"):
        from tui_agent.core.sandbox.docker_backend import DockerSandbox

        try:
            return DockerSandbox(
                limits, work_root, bus, image=settings.sandbox_image, pool_size=settings.sandbox_pool
            )
        except SandboxUnavailable as exc:
            if choice == "docker":
                raise
            reasons.append(str(exc))
    if choice in ("auto", "bwrap"):
        from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox

        try:
            return BubblewrapSandbox(limits, work_root, bus)
        except SandboxUnavailable as exc:
            if choice == "bwrap":
                raise
            reasons.append(str(exc))
    raise SandboxUnavailable(NO_BACKEND + (f" ({'; '.join(reasons)})" if reasons else ""))
