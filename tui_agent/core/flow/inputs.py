"""Files a request names, checked before a tool may read them: only a regular file the user can
read, no bigger than ``input_file_mb``, and inside the working directory unless the person allows
the path (the dashboard asks; headless needs ``--allow-path``). The tool gets a read-only copy of
that one file in its sandbox, never the folder around it."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tui_agent.core.request.values import named_files
from tui_agent.core.tool.cases import CUT
from tui_agent.core.tool.spec import ToolSpec


@dataclass
class FileCheck:
    """``files``: parameter -> the host file to give; ``refused``: why not (one line);
    ``outside``: files outside the working directory that need a person's yes."""

    files: dict[str, Path] = field(default_factory=dict)
    refused: str = ""
    outside: list[Path] = field(default_factory=list)


SAMPLE_LINES = 6
SAMPLE_CHARS = 600


def sample_of(path: Path) -> str:
    """The first lines of a text file; a file too long to show whole is cut short and ends in a
    :data:`CUT` line, so the model knows whether it sees all of it. "" for a file that is not
    text."""
    try:
        with path.open("rb") as handle:
            head = handle.read(SAMPLE_CHARS + 1)
    except OSError:
        return ""
    if b"\x00" in head:
        return ""
    text = head.decode("utf-8", errors="replace")
    lines = text.splitlines()
    if len(text) <= SAMPLE_CHARS and len(lines) <= SAMPLE_LINES and all(len(x) <= 120 for x in lines):
        return text.rstrip("\n")
    shown = "\n".join(line[:120] for line in lines[:SAMPLE_LINES])[:SAMPLE_CHARS]
    return f"{shown}\n{CUT}"


def samples(found: FileCheck) -> dict[str, str]:
    """How each file a request names begins, by the name the request gave it."""
    return {name: text for name, path in found.files.items() if (text := sample_of(path))}


def check_files(
    spec: ToolSpec, args: dict[str, Any], limit_mb: int, allowed: set[Path], cwd: Path | None = None
) -> FileCheck:
    found = FileCheck()
    for p in spec.parameters:
        named = p.type == "file" and p.name in args
        if named and not _check_one(str(args[p.name]), p.name, found, limit_mb, allowed, cwd):
            return found
    return found


def files_named(text: str, limit_mb: int, allowed: set[Path], cwd: Path | None = None) -> FileCheck:
    """The files a request's own words name (``sales.csv``, ``~/data/x.json``, ``/etc/shadow``)
    that exist: checked before any tool is made for them, so a refusal costs no synthesis. A
    quoted word is text the request works on ("reverse '/etc/hosts'"), not a file it names."""
    found = FileCheck()
    for named in named_files(text, (cwd or Path.cwd()).resolve()):
        if not _check_one(named, named, found, limit_mb, allowed, cwd):
            return found
    return found


def _check_one(
    named: str, key: str, found: FileCheck, limit_mb: int, allowed: set[Path], cwd: Path | None
) -> bool:
    """Adds ``named`` to ``found`` (files, and outside when it needs a yes); False, with the
    reason in ``found.refused``, when no tool may be given it."""
    here = (cwd or Path.cwd()).resolve()
    path = Path(named).expanduser()
    path = path if path.is_absolute() else here / path
    try:
        real = path.resolve(strict=True)
    except (OSError, RuntimeError):
        found.refused = f"there is no file {named!r} (looked at {path})"
        return False
    if not real.is_file():
        found.refused = f"{named!r} is not a regular file"
        return False
    if not os.access(real, os.R_OK):
        found.refused = f"{named!r} cannot be read by you, so no tool may read it"
        return False
    size_mb = real.stat().st_size / (1024 * 1024)
    if size_mb > limit_mb:
        found.refused = f"{named!r} is {size_mb:.0f} MB; a tool may be given {limit_mb} MB at most (setting input_file_mb)"
        return False
    if here not in real.parents and real not in {a.resolve() for a in allowed}:
        found.outside.append(real)
    found.files[key] = real
    return True
