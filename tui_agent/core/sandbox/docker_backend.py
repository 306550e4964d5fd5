"""The Docker backend: one fresh, locked-down container per run.

No network, uid 65534, every capability dropped, no-new-privileges, pids / memory (no extra
swap) / CPU limits, read-only root and workspace, a small noexec /tmp, an allowlisted
environment, our label on every container. A host-side deadline kills the container (the SDK's
own timeout is only an HTTP timeout), output is read with a cap, and a small pool of
created-but-never-started containers cuts the start latency; a started container is never reused.
"""

from __future__ import annotations

import contextlib
import os
import socket
import struct
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.sandbox.image import image_state
from tui_agent.core.sandbox.results import Limits, RawRun, SandboxUnavailable
from tui_agent.core.sandbox.streams import LineSink, OutputCollector, pump
from tui_agent.core.sandbox.workspace import Workspace

LABEL = "selfeng.sandbox"
OWNER_LABEL = "selfeng.owner"
ENVIRONMENT = {"HOME": "/tmp", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "SELFENG_WORKDIR": "/work"}
COMMAND = ["python3", "-I", "-B", "/opt/selfeng/runner.py"]


def owner_tag() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class _Slot:
    container_id: str
    workspace: Workspace


class DockerSandbox(Sandbox):
    name = "docker"

    def __init__(
        self, limits: Limits, work_root: Path, bus: EventBus | None = None, *, image: str, pool_size: int = 2
    ) -> None:
        try:
            import docker

            self.client = docker.from_env(timeout=30)
            self.client.ping()
        except Exception as exc:
            raise SandboxUnavailable(
                f"no Docker engine answers ({str(exc)[:100]}): start dockerd or use --sandbox bwrap"
            ) from None
        state = image_state(self.client, image)
        if state != "ok":
            raise SandboxUnavailable(f"sandbox image {image} is {state}: run `selfeng-tui sandbox build`")
        super().__init__(limits, work_root, bus)
        self.image = image
        self.pool_size = pool_size
        self._pool: deque[_Slot] = deque()
        self._lock = threading.Lock()
        self._closed = False
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sandbox-pool")
        self._pending: list[Future[Any]] = []
        self.swept = sweep_containers(self.client)
        self._refill()

    # --- containers --------------------------------------------------------------------

    def _create(self, command: list[str] | None = None) -> _Slot:
        limits = self.limits
        workspace = Workspace(self.work_root)
        memory = limits.memory_mb * 1024 * 1024
        try:
            import docker.types

            config = self.client.api.create_container_config(
                self.image,
                command=command or COMMAND,
                user="65534:65534",
                working_dir="/work",
                environment=ENVIRONMENT,
                stdin_open=True,
                tty=False,
                network_disabled=True,
                labels={LABEL: "1", OWNER_LABEL: owner_tag()},
                host_config=self.client.api.create_host_config(
                    network_mode="none",
                    cap_drop=["ALL"],
                    security_opt=["no-new-privileges"],
                    pids_limit=limits.pids,
                    mem_limit=memory,
                    memswap_limit=memory,
                    mem_swappiness=0,
                    nano_cpus=int(limits.cpus * 1e9),
                    # a quarter of the default weight: when the CPU is short, the dashboard the
                    # user is looking at runs first and the tests under verification wait
                    cpu_shares=256,
                    read_only=True,
                    tmpfs={"/tmp": f"rw,noexec,nosuid,nodev,size={limits.tmp_mb}m"},
                    binds={str(workspace.path): {"bind": "/work", "mode": "ro"}},
                    ulimits=[
                        docker.types.Ulimit(name="core", soft=0, hard=0),
                        docker.types.Ulimit(name="nofile", soft=256, hard=256),
                        docker.types.Ulimit(
                            name="fsize", soft=limits.tmp_mb * 1024 * 1024, hard=limits.tmp_mb * 1024 * 1024
                        ),
                    ],
                    ipc_mode="none",
                    oom_kill_disable=False,
                ),
            )
            config["StdinOnce"] = True  # our half-close of the attach stream is the runner's EOF
            container = self.client.api.create_container_from_config(config, None)
        except Exception:
            workspace.remove()
            raise
        return _Slot(container["Id"], workspace)

    def _refill(self) -> None:
        with self._lock:
            if self._closed:
                return
            missing = self.pool_size - len(self._pool) - sum(not f.done() for f in self._pending)
            self._pending = [f for f in self._pending if not f.done()]
            for _ in range(max(0, missing)):
                self._pending.append(self._executor.submit(self._add_to_pool))

    def _add_to_pool(self) -> None:
        slot = self._create()
        with self._lock:
            if not self._closed:
                self._pool.append(slot)
                return
        self._discard(slot)

    def _take(self) -> _Slot:
        with self._lock:
            slot = self._pool.popleft() if self._pool else None
        self._refill()
        return slot or self._create()

    def _discard(self, slot: _Slot) -> None:
        with contextlib.suppress(Exception):
            self.client.api.remove_container(slot.container_id, force=True)
        slot.workspace.remove()

    # --- a run -------------------------------------------------------------------------

    def _run(self, files: dict[str, str | Path], request: bytes, sink: LineSink | None) -> RawRun:
        slot = self._take()
        try:
            slot.workspace.fill(files, self.limits.input_bytes)
            return self._run_slot(slot, request, sink)
        finally:
            self._discard(slot)

    def run_program(self, program: list[str]) -> RawRun:
        slot = self._create(program)
        try:
            slot.workspace.fill({})
            return self._run_slot(slot, b"", None)
        finally:
            self._discard(slot)

    def _run_slot(self, slot: _Slot, request: bytes, sink: LineSink | None) -> RawRun:
        api = self.client.api
        raw = RawRun()
        collector = OutputCollector(self.limits.output_bytes, sink)
        attached = api.attach_socket(
            slot.container_id, params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1}
        )
        sock: socket.socket = attached._sock
        started = time.monotonic()
        deadline = started + self.limits.timeout_s
        try:
            api.start(slot.container_id)
            sock.sendall(request)
            sock.shutdown(socket.SHUT_WR)
            frames = _FrameReader()
            pump(
                sock,
                lambda: sock.recv(65536),
                deadline,
                lambda data: all(collector.feed(p) for p in frames.feed(data)),
                raw,
            )
        finally:
            with contextlib.suppress(OSError):
                sock.close()
            with contextlib.suppress(Exception):
                attached.close()
        if raw.timed_out or raw.output_too_large:
            self._kill(slot.container_id)
        remaining = max(0.5, deadline - time.monotonic())
        try:
            raw.exit_code = int(api.wait(slot.container_id, timeout=remaining + 2)["StatusCode"])
        except Exception:
            raw.timed_out = True  # output closed but the container lives on
            self._kill(slot.container_id)
        with contextlib.suppress(Exception):
            state = api.inspect_container(slot.container_id)["State"]
            raw.oom = bool(state.get("OOMKilled"))
            if raw.exit_code is None:
                raw.exit_code = int(state.get("ExitCode", -1))
        raw.output = bytes(collector.buffer)
        raw.duration_s = time.monotonic() - started
        return raw

    def _kill(self, container_id: str) -> None:
        with contextlib.suppress(Exception):
            self.client.api.kill(container_id)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            slots = list(self._pool)
            self._pool.clear()
        self._executor.shutdown(wait=True)
        for slot in slots:
            self._discard(slot)
        with contextlib.suppress(Exception):
            self.client.close()


class _FrameReader:
    """Docker's multiplexed attach stream: 8-byte headers (stream, 0, 0, 0, size) + payload."""

    def __init__(self) -> None:
        self.buffer = b""

    def feed(self, data: bytes) -> list[bytes]:
        self.buffer += data
        out = []
        while len(self.buffer) >= 8:
            size = struct.unpack(">I", self.buffer[4:8])[0]
            if len(self.buffer) < 8 + size:
                break
            out.append(self.buffer[8 : 8 + size])
            self.buffer = self.buffer[8 + size :]
        return out


def sweep_containers(client: Any) -> int:
    """Remove our labelled containers whose owner process on this host is gone."""
    removed = 0
    host = socket.gethostname()
    for container in client.api.containers(all=True, filters={"label": LABEL}):
        owner = (container.get("Labels") or {}).get(OWNER_LABEL, "")
        owner_host, _, pid = owner.rpartition(":")
        if owner_host == host and pid.isdigit() and Path(f"/proc/{pid}").exists():
            continue
        with contextlib.suppress(Exception):
            client.api.remove_container(container["Id"], force=True)
            removed += 1
    return removed
