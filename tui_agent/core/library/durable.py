"""Writes that survive a crash: a new file is flushed to disk before it counts, a replaced one
appears whole or not at all."""

from __future__ import annotations

import os
import secrets
from pathlib import Path


def write_new(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    write_new(tmp, text)
    os.replace(tmp, path)
