"""The bubblewrap backend, for hosts without a Docker engine.

Every namespace is unshared (network included), the sandbox runs as uid 65534 with no
capabilities, sees only what Python needs (read-only), the workspace (read-only) and a small
tmpfs. bwrap itself is started from a scrubbed environment: ``--clearenv`` alone would still
show our environment through ``/proc/1/environ``. Processes and memory are held by a per-run
cgroup (rlimits where cgroups are not writable); CPU time and file size by rlimits.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from tui_agent.core.bus import EventBus
from tui_agent.core.lifeline import Lifeline
from tui_agent.core.sandbox.base import RUNNER_PATH, Sandbox
from tui_agent.core.sandbox.cgroups import RunCgroup, create_run_cgroup, sweep_cgroups
from tui_agent.core.sandbox.results import Limits, RawRun, SandboxUnavailable
from tui_agent.core.sandbox.streams import LineSink, OutputCollector, pump
from tui_agent.core.sandbox.workspace import Workspace

SCRUBBED_ENV = {"PATH": "/usr/bin:/bin"}
INNER_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "PYTHONDONTWRITEBYTECODE": "1",
    "SELFENG_WORKDIR": "/work",
}


def find_python(python: str = "/usr/bin/python3") -> Path | None:
    """A system Python outside any home directory, with pytest importable."""
    path = Path(python).resolve()
    if not path.is_file() or not str(path).startswith("/usr/"):
        return None
    probe = subprocess.run(
        [str(path), "-I", "-c", "import pytest"], capture_output=True, env=SCRUBBED_ENV, timeout=30
    )
    return path if probe.returncode == 0 else None


def python_binds(python: Path) -> list[str]:
    """Read-only binds for the interpreter, its stdlib, Debian's dist-packages and shared libraries."""
    version = subprocess.run(
        [str(python), "-I", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        env=SCRUBBED_ENV,
        timeout=30,
        check=True,
    ).stdout.strip()
    dirs = [
        f"/usr/lib/python{version}",
        "/usr/lib/python3/dist-packages",
        "/usr/lib64",
        "/usr/share/zoneinfo",
    ]
    dirs += sorted(glob.glob("/usr/lib/*-linux-gnu"))
    args = ["--ro-bind", str(python), "/usr/bin/python3"]
    for directory in dirs:
        if Path(directory).is_dir():
            args += ["--ro-bind", directory, directory]
    return args


class BubblewrapSandbox(Sandbox):
    name = "bwrap"

    def __init__(
        self, limits: Limits, work_root: Path, bus: EventBus | None = None, python: str = "/usr/bin/python3"
    ) -> None:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            raise SandboxUnavailable("bubblewrap is not installed: apt-get install bubblewrap")
        found = find_python(python)
        if found is None:
            raise SandboxUnavailable(
                "no system Python with pytest for bubblewrap: apt-get install python3 python3-pytest"
            )
        super().__init__(limits, work_root, bus)
        self.bwrap = bwrap
        self.prlimit = shutil.which("prlimit")
        self.binds = python_binds(found)
        sweep_cgroups()

    def command(
        self, workspace: Path, cgroup: RunCgroup | None, lifeline: Lifeline, program: list[str] | None = None
    ) -> list[str]:
        limits = self.limits
        bwrap = [
            self.bwrap,
            "--unshare-all",
            "--unshare-user",
            "--disable-userns",
            "--uid",
            "65534",
            "--gid",
            "65534",
            "--die-with-parent",
            "--new-session",
            "--cap-drop",
            "ALL",
            "--hostname",
            "sandbox",
            *self.binds,
            "--symlink",
            "usr/bin",
            "/bin",
            "--symlink",
            "usr/lib",
            "/lib",
            "--symlink",
            "usr/lib64",
            "/lib64",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--size",
            str(limits.tmp_mb * 1024 * 1024),
            "--tmpfs",
            "/tmp",
            "--ro-bind",
            str(workspace),
            "/work",
            "--ro-bind",
            str(RUNNER_PATH),
            "/opt/selfeng/runner.py",
            "--remount-ro",
            "/",
            "--chdir",
            "/work",
            "--clearenv",
        ]
        for key, value in INNER_ENV.items():
            bwrap += ["--setenv", key, value]
        bwrap += program or ["/usr/bin/python3", "-I", "-B", "/opt/selfeng/runner.py"]
        rlimits = [
            f"--cpu={max(1, int(limits.timeout_s * limits.cpus) + 1)}",
            f"--fsize={limits.tmp_mb * 1024 * 1024}",
            "--core=0",
            "--nofile=256",
        ]
        if cgroup is None:  # no cgroup: the weaker per-process limits
            rlimits += [f"--as={limits.memory_mb * 1024 * 1024 * 2}", f"--nproc={limits.pids}"]
        if nice := shutil.which("nice"):  # the dashboard runs first when the CPU is short
            bwrap = [nice, "-n", "10", *bwrap]
        command = [self.prlimit, *rlimits, "--", *bwrap] if self.prlimit else bwrap
        cgroup_files = [str(f) for f in cgroup.procs_files] if cgroup is not None else []
        return lifeline.command(command, cgroup_files)

    def _run(self, files: dict[str, str | Path], request: bytes, sink: LineSink | None) -> RawRun:
        workspace = Workspace(self.work_root)
        try:
            workspace.fill(files, self.limits.input_bytes)
            return self._run_in(workspace.path, request, sink)
        finally:
            workspace.remove()

    def run_program(self, program: list[str]) -> RawRun:
        workspace = Workspace(self.work_root)
        try:
            workspace.fill({})
            return self._run_in(workspace.path, b"", None, program)
        finally:
            workspace.remove()

    def _run_in(
        self, workspace: Path, request: bytes, sink: LineSink | None, program: list[str] | None = None
    ) -> RawRun:
        limits = self.limits
        cgroup = create_run_cgroup(limits.memory_mb * 1024 * 1024, limits.pids)
        raw = RawRun()
        if cgroup is None:
            raw.notes.append("no writable cgroup: process and memory limits are rlimits")
        collector = OutputCollector(limits.output_bytes, sink)
        started = time.monotonic()
        lifeline = Lifeline()
        try:
            process = subprocess.Popen(
                self.command(workspace, cgroup, lifeline, program),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                env=SCRUBBED_ENV,
                start_new_session=True,
                close_fds=True,
                pass_fds=lifeline.pass_fds,
                cwd="/",
            )
        finally:
            lifeline.started()
        try:
            assert process.stdin is not None and process.stdout is not None
            with contextlib.suppress(BrokenPipeError):
                process.stdin.write(request)
                process.stdin.close()
            deadline = started + limits.timeout_s
            fd = process.stdout.fileno()
            pump(fd, lambda: os.read(fd, 65536), deadline, collector.feed, raw)
            if raw.timed_out or raw.output_too_large:
                self._kill(process, cgroup)
            try:
                raw.exit_code = process.wait(timeout=max(0.1, deadline - time.monotonic()) + 2)
            except subprocess.TimeoutExpired:
                # stdout closed but the process lives on (it closed fd 1 and kept going)
                raw.timed_out = True
                self._kill(process, cgroup)
                raw.exit_code = process.wait(timeout=10)
            if cgroup is not None and cgroup.oom_killed():
                raw.oom = True
            if raw.exit_code == -signal.SIGXCPU or raw.exit_code == 128 + signal.SIGXCPU:
                raw.timed_out = True
        finally:
            self._kill(process, cgroup)
            process.stdout.close() if process.stdout else None
            lifeline.release()
            if cgroup is not None:
                cgroup.remove()
        raw.output = bytes(collector.buffer)
        raw.duration_s = time.monotonic() - started
        return raw

    @staticmethod
    def _kill(process: subprocess.Popen[bytes], cgroup: RunCgroup | None) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)
        if cgroup is not None:
            cgroup.kill_all()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
