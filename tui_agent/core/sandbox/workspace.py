"""The files of one run on the host: a fresh directory, copied by content, read-only while the
sandbox runs; and the sweep that removes what a dead process left."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tui_agent.core.lifeline import alive
from tui_agent.core.sandbox.results import InputRefused

WORKSPACE_PREFIX = "ws-"


class Workspace:
    """A fresh host directory holding only the files of one run, copied by content, then made
    read-only. Lives under ``root/ws-<pid>-<random>/`` so a sweep can tell live runs from
    leftovers. Created empty (a pooled container binds it early) and filled just before a run."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-", dir=root))
        self.path.chmod(0o755)

    def fill(self, files: Mapping[str, str | Path], max_file_bytes: int | None = None) -> None:
        """Text is written as it is; a Path is a host file whose bytes are copied (never linked),
        at most ``max_file_bytes`` of them: the size is checked while copying, so a file that
        grew after it was checked is refused (InputRefused), not copied whole."""
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                copy_bounded(content, target, max_file_bytes)
            else:
                with open(target, "x", encoding="utf-8") as handle:  # never follows a symlink
                    handle.write(content)
            target.chmod(0o444)
        for directory in sorted(
            {p for name in files for p in (self.path / name).parents if self.path in p.parents}
        ):
            directory.chmod(0o555)
        self.path.chmod(0o555)

    def remove(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.chmod(0o755)
            for directory in self.path.rglob("*"):
                if directory.is_dir():
                    directory.chmod(0o755)
            shutil.rmtree(self.path, ignore_errors=True)


def copy_bounded(source: Path, target: Path, limit: int | None) -> None:
    """Copy a regular file's bytes, never through a symlink, refusing it past ``limit`` bytes."""
    try:
        fd = os.open(source, os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:
        raise InputRefused(f"{source.name} cannot be opened ({exc.strerror})") from None
    with os.fdopen(fd, "rb") as handle, open(target, "xb") as out:
        if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
            raise InputRefused(f"{source.name} is not a regular file")
        copied = 0
        while chunk := handle.read(1 << 20):
            copied += len(chunk)
            if limit is not None and copied > limit:
                raise InputRefused(f"{source.name} is larger than {limit // (1024 * 1024)} MB")
            out.write(chunk)


def sweep_workspaces(root: Path) -> int:
    """Remove workspaces whose owning process is gone (a crash or a kill)."""
    removed = 0
    if not root.is_dir():
        return 0
    for entry in root.glob(f"{WORKSPACE_PREFIX}*"):
        pid_text = entry.name.removeprefix(WORKSPACE_PREFIX).split("-")[0]
        if pid_text.isdigit() and alive(int(pid_text)):
            continue
        with contextlib.suppress(OSError):
            entry.chmod(0o755)
        shutil.rmtree(entry, ignore_errors=True)
        removed += 1
    return removed
