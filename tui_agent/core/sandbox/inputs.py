"""Files a call reads: a test case's small inline files, and a file the user named. Each is put
into the run's workspace (copied by content, read-only, never the folder around it) and the
argument becomes its path inside the sandbox. Nothing else of the host is visible."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tui_agent.core.tool.cases import inline_file

WORKDIR = "/work"  # where both backends mount the workspace
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(name: str) -> str:
    base = _UNSAFE.sub("_", Path(str(name)).name).strip("._") or "input"
    return base[:100]


def place_inputs(
    calls: Sequence[dict[str, Any]], host_files: Mapping[int, Mapping[str, Path]] | None = None
) -> tuple[list[dict[str, Any]], dict[str, str | Path]]:
    """The calls with every file argument replaced by its path in the sandbox, and the files the
    workspace must hold for them (text for inline files, a host path to copy for named ones).
    ``host_files``: call index -> parameter -> the host file that call reads. A named file and a
    test case's inline file lie alike (``inputs/c<call>/<parameter>/<name>``), so a tool cannot
    tell a person's call from a verified case by where its file is."""
    files: dict[str, str | Path] = {}
    placed = []
    for index, args in enumerate(calls):
        call = dict(args)
        named: dict[str, tuple[str, str | Path]] = {
            key: found for key, value in args.items() if (found := inline_file(value)) is not None
        }
        named.update({key: (host.name, host) for key, host in (host_files or {}).get(index, {}).items()})
        for key, (name, content) in named.items():
            relative = f"inputs/c{index}/{safe_name(key)}/{safe_name(name)}"
            files[relative] = content
            call[key] = f"{WORKDIR}/{relative}"
        placed.append(call)
    return placed, files
