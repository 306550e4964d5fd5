"""The files of one run on the host: a fresh directory, copied by content, read-only while the
sandbox runs; and the sweep that removes what a dead process left."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path

from tui_agent.core.lifeline import alive

WORKSPACE_PREFIX = "ws-"


class Workspace:
    """A fresh host directory holding only the files of one run, copied by content, then made
    read-only. Lives under ``root/ws-<pid>-<random>/`` so a sweep can tell live runs from
    leftovers. Created empty (a pooled container binds it early) and filled just before a run."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix=f"{WORKSPACE_PREFIX}{os.getpid()}-", dir=root))
        self.path.chmod(0o755)

    def fill(self, files: Mapping[str, str | Path]) -> None:
        """Text is written as it is; a Path is a host file whose bytes are copied (never linked)."""
        for name, content in files.items():
            target = self.path / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(content, Path):
                with open(content, "rb") as source, open(target, "xb") as handle:
                    shutil.copyfileobj(source, handle, 1 << 20)
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
