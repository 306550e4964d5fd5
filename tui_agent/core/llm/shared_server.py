"""One local model server per machine, found through files in the shared model cache.

Every process that needs the embedded model (a dashboard, an ``ask``, ``tools new``, the MCP
server, another home) looks in ``<model_cache>/servers/`` under one file lock: ``<key>.json``
names a running server (address and pid) for a given model and settings, and
``<key>.users/`` holds one file per process using it. The first starts the server; the others
find it. The server is nobody's child for life: it watches the users and exits once none of
them is alive, so a crashed owner leaves the others their model, and the last one gone (killed
or not) takes the server with it. The lock is held while a server starts: who comes meanwhile
waits and then finds it."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import time
from pathlib import Path

from filelock import FileLock

REAP_POLL_S = 0.5


def started_at(pid: int) -> str:
    """The kernel's start time of ``pid`` ("" when gone): a pid reused later has another."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return "" if fields[0] == "Z" else fields[19]


def running(pid: int, start: str) -> bool:
    return bool(start) and started_at(pid) == start


class SharedServer:
    """The files of one server key: its lock, its record, its users."""

    def __init__(self, cache: Path, key: str) -> None:
        self.root = cache / "servers"
        self.key = key
        self.record = self.root / f"{key}.json"
        self.users = self.root / f"{key}.users"
        self.log = self.root / f"{key}.log"
        self.lock = FileLock(self.root / f"{key}.lock")

    def prepare(self) -> None:
        self.users.mkdir(parents=True, exist_ok=True)

    def join(self) -> Path:
        """This process uses the server from now on (call under the lock)."""
        pid = os.getpid()
        entry = self.users / f"{pid}-{started_at(pid)}-{secrets.token_hex(3)}"
        entry.touch()
        return entry

    def running(self) -> dict[str, object] | None:
        """The record of a server that is still alive, or None."""
        try:
            info = json.loads(self.record.read_text())
            pid, start = int(info["pid"]), str(info["start"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        return info if running(pid, start) else None

    def publish(self, pid: int, url: str) -> None:
        tmp = self.record.with_suffix(f".{secrets.token_hex(3)}.tmp")
        tmp.write_text(json.dumps({"pid": pid, "start": started_at(pid), "url": url}))
        os.replace(tmp, self.record)

    def live_users(self) -> int:
        """Users still alive; the files of those that are gone are removed."""
        count = 0
        for entry in self.users.glob("*"):
            pid, start, _token = [*entry.name.split("-"), "", "", ""][:3]
            if pid.isdigit() and running(int(pid), start):
                count += 1
            else:
                entry.unlink(missing_ok=True)
        return count


def serve_while_used(shared: SharedServer) -> None:
    """In the server process, on a thread: exit once no user is alive. The record goes first,
    under the lock, so nobody finds a server that is about to go."""
    while True:
        time.sleep(REAP_POLL_S)
        with shared.lock:
            if shared.live_users():
                continue
            with contextlib.suppress(OSError, ValueError, KeyError):
                if int(json.loads(shared.record.read_text())["pid"]) == os.getpid():
                    shared.record.unlink()
            os._exit(0)
