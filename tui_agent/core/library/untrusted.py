"""Reading a folder someone shared, bounded in time and memory.

Reading runs nothing from the folder, but it does parse it: a test line can ask the arithmetic
reader for work that grows with its arguments, or nest past the parser's stack. The readers bound
what they know of; this bounds what they do not. The folder is read by :mod:`folders` in a child
process with a wall-clock timeout and an address-space limit, and only plain JSON comes back:
a reader that hangs or dies costs that import, with a one-line reason, never the host."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tui_agent.core.library.folders import RegistryError, ToolFolder, read_tool_dir
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.spec import ToolSpec

READ_TIMEOUT_S = 20.0
READ_MEMORY_BYTES = 1 << 30
MAX_REPLY = 8 << 20
BATCH = 50  # folders per child process when many are read at once


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    import resource

    resource.setrlimit(resource.RLIMIT_AS, (READ_MEMORY_BYTES, READ_MEMORY_BYTES))


def _child(directories: list[Path], timeout: float) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-I", "-m", __name__, *map(str, directories)],
        capture_output=True,
        timeout=timeout,
        preexec_fn=_limit_memory,
        check=False,
    )


def read_untrusted_dir(directory: Path, timeout: float = READ_TIMEOUT_S) -> ToolFolder:
    """:func:`folders.read_tool_dir`, in a child process that is killed after ``timeout``."""
    try:
        done = _child([directory], timeout)
    except subprocess.TimeoutExpired:
        raise RegistryError(
            f"{directory}: reading its tests took longer than {timeout:.0f} s, so it was not imported"
        ) from None
    try:
        [data] = json.loads(done.stdout[:MAX_REPLY])
    except ValueError:
        last = (done.stderr.decode("utf-8", "replace").strip().splitlines() or ["no reply"])[-1]
        raise RegistryError(f"{directory}: its files could not be read ({last[:200]})") from None
    return _folder(data)


def read_untrusted_dirs(
    directories: list[Path], timeout: float = READ_TIMEOUT_S
) -> dict[Path, ToolFolder | RegistryError]:
    """Many folders (a pull), read a batch per child process, which saves a start per folder. A
    batch that hangs or dies is read again one folder per child: a bad folder costs itself."""
    read: dict[Path, ToolFolder | RegistryError] = {}
    for start in range(0, len(directories), BATCH):
        batch = directories[start : start + BATCH]
        try:
            done = _child(batch, timeout)
            replies = json.loads(done.stdout[: MAX_REPLY * 4])
            if not isinstance(replies, list) or len(replies) != len(batch):
                raise ValueError("short reply")
        except (subprocess.TimeoutExpired, ValueError):
            replies = [None] * len(batch)
        for directory, data in zip(batch, replies, strict=True):
            try:
                read[directory] = (
                    _folder(data) if data is not None else read_untrusted_dir(directory, timeout)
                )
            except RegistryError as exc:
                read[directory] = exc
    return read


def _folder(data: Any) -> ToolFolder:
    if not isinstance(data, dict):
        raise RegistryError("its files could not be read (an unexpected reply)")
    if "error" in data:
        raise RegistryError(str(data["error"])[:500])
    return ToolFolder(
        name=str(data["name"]),
        tool_source=str(data["tool_source"]),
        test_source=str(data["test_source"]),
        spec=ToolSpec.model_validate(data["spec"]),
        cases=[TestCase.model_validate(c) for c in data["cases"]],
        unread=[str(u) for u in data["unread"]],
        meta=data["meta"] if isinstance(data["meta"], dict) else {},
    )


def _reply(directory: Path) -> dict[str, Any]:
    try:
        folder = read_tool_dir(directory)
    except RegistryError as exc:
        return {"error": str(exc)}
    except (RecursionError, MemoryError) as exc:
        return {"error": f"{directory}: too deep or too large to read ({type(exc).__name__})"}
    return {
        "name": folder.name,
        "tool_source": folder.tool_source,
        "test_source": folder.test_source,
        "spec": folder.spec.model_dump(),
        "cases": [c.model_dump() for c in folder.cases],
        "unread": folder.unread,
        "meta": folder.meta,
    }


if __name__ == "__main__":
    sys.stdout.write(json.dumps([_reply(Path(arg)) for arg in sys.argv[1:]]))
