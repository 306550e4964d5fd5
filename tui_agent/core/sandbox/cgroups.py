"""Per-run cgroups for the bubblewrap backend: a process (pids) and memory limit that holds
whatever uid the sandbox runs as. RLIMIT_NPROC does not: it is not enforced for a root-launched
bwrap, so a fork bomb would run free. Works with cgroup v1 and v2 when we may write them
(root); otherwise :func:`create_run_cgroup` returns None and the caller falls back to rlimits."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")


def _own_cgroup_paths() -> dict[str, str]:
    """controller -> our cgroup path, from /proc/self/cgroup ('' key for the v2 hierarchy)."""
    paths: dict[str, str] = {}
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            for controller in controllers.split(",") if controllers else [""]:
                paths[controller] = path
    return paths


@dataclass
class RunCgroup:
    dirs: list[Path]
    memory_dir: Path
    v2: bool

    @property
    def procs_files(self) -> list[Path]:
        return [d / "cgroup.procs" for d in self.dirs]

    def oom_killed(self) -> bool:
        name = "memory.events" if self.v2 else "memory.oom_control"
        with contextlib.suppress(OSError, ValueError):
            for line in (self.memory_dir / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill" and int(value) > 0:
                    return True
        return False

    def pids(self) -> list[int]:
        found: set[int] = set()
        for procs in self.procs_files:
            with contextlib.suppress(OSError, ValueError):
                found.update(int(p) for p in procs.read_text().split())
        return sorted(found)

    def kill_all(self) -> None:
        for directory in self.dirs:
            kill_file = directory / "cgroup.kill"
            if self.v2 and kill_file.exists():
                with contextlib.suppress(OSError):
                    kill_file.write_text("1")
        for _ in range(50):
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)

    def remove(self) -> None:
        self.kill_all()
        for directory in self.dirs:
            for _ in range(50):
                try:
                    directory.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)


def _write(path: Path, value: str) -> bool:
    try:
        path.write_text(value)
        return True
    except OSError:
        return False


def create_run_cgroup(memory_bytes: int, pids_max: int) -> RunCgroup | None:
    """A fresh cgroup below our own with the limits set, or None when we may not make one."""
    name = f"selfeng-{os.getpid()}-{secrets.token_hex(4)}"
    own = _own_cgroup_paths()
    if (CGROUP_ROOT / "cgroup.controllers").exists():  # unified v2 hierarchy
        directory = CGROUP_ROOT / own.get("", "/").lstrip("/") / name
        try:
            directory.mkdir()
        except OSError:
            return None
        group = RunCgroup([directory], directory, v2=True)
        ok = _write(directory / "pids.max", str(pids_max)) and _write(
            directory / "memory.max", str(memory_bytes)
        )
        _write(directory / "memory.swap.max", "0")
        if not ok:
            group.remove()
            return None
        return group
    dirs: list[Path] = []
    for controller in ("pids", "memory"):
        base = CGROUP_ROOT / controller
        if not base.is_dir():
            break
        directory = base / own.get(controller, "/").lstrip("/") / name
        try:
            directory.mkdir()
        except OSError:
            break
        dirs.append(directory)
    group = RunCgroup(dirs, dirs[-1] if dirs else Path("/nonexistent"), v2=False)
    if len(dirs) != 2:
        group.remove()
        return None
    pids_dir, memory_dir = dirs
    ok = _write(pids_dir / "pids.max", str(pids_max)) and _write(
        memory_dir / "memory.limit_in_bytes", str(memory_bytes)
    )
    if (memory_dir / "memory.memsw.limit_in_bytes").exists():
        _write(memory_dir / "memory.memsw.limit_in_bytes", str(memory_bytes))
    _write(memory_dir / "memory.swappiness", "0")
    if not ok:
        group.remove()
        return None
    return group


def sweep_cgroups() -> int:
    """Remove run cgroups left by a process that is gone."""
    removed = 0
    own = _own_cgroup_paths()
    bases = (
        [CGROUP_ROOT / own.get("", "/").lstrip("/")]
        if (CGROUP_ROOT / "cgroup.controllers").exists()
        else [CGROUP_ROOT / c / own.get(c, "/").lstrip("/") for c in ("pids", "memory")]
    )
    for base in bases:
        with contextlib.suppress(OSError):
            for directory in base.glob("selfeng-*"):
                pid = directory.name.split("-")[1]
                if pid.isdigit() and Path(f"/proc/{pid}").exists():
                    continue
                RunCgroup([directory], directory, v2=False).remove()
                removed += 1
    return removed
