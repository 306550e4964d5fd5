"""The tool library on disk, the source of truth: ``tools/<name>/`` holds ``tool.py``,
``test_tool.py`` and ``tool.json``; older versions live in ``tools/<name>/versions/v<N>/``.

A new version is built complete in a staging directory and swapped in with renames, so a write
interrupted at any point leaves the previous version intact; a crash between the two renames is
undone on the next start. Nothing is ever silently overwritten."""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
from pathlib import Path
from typing import Any

from tui_agent.core.tool.record import (
    META_FILE,
    TEST_FILE,
    TOOL_FILE,
    Tool,
    ToolRecord,
    ToolStoreError,
    sha256_text,
    validate_name,
)

VERSIONS = "versions"
STAGING = ".staging-"
OLD = ".old-"
TRASH = ".trash-"


def _write(path: Path, text: str) -> None:
    with open(path, "x", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    _write(tmp, text)
    os.replace(tmp, path)


class ToolStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.recovered = self.recover()

    def recover(self) -> list[str]:
        """Undo what a crash mid-save left: drop staging dirs, put a swapped-out version back."""
        notes = []
        for entry in self.root.glob(f"{OLD}*"):
            name = entry.name[len(OLD) :].rsplit("-", 1)[0]
            current = self.root / name
            if current.exists():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                os.replace(entry, current)
                notes.append(f"restored {name} after an interrupted save")
        for entry in [*self.root.glob(f"{STAGING}*"), *self.root.glob(f"{TRASH}*")]:
            shutil.rmtree(entry, ignore_errors=True)
            notes.append(f"dropped an interrupted save ({entry.name})")
        return notes

    def _dir(self, name: str) -> Path:
        return self.root / validate_name(name)

    def names(self) -> list[str]:
        return sorted(
            p.name
            for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / META_FILE).exists()
        )

    def exists(self, name: str) -> bool:
        return (self._dir(name) / META_FILE).exists()

    def record(self, name: str) -> ToolRecord:
        path = self._dir(name) / META_FILE
        try:
            return ToolRecord.from_dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            raise ToolStoreError(f"no tool named {name!r}") from None
        except (ValueError, TypeError) as exc:
            raise ToolStoreError(f"{path} is corrupt: {exc}") from None

    def load(self, name: str) -> Tool:
        """The current version, checked against its recorded sha256."""
        record = self.record(name)
        directory = self._dir(name)
        tool = (directory / TOOL_FILE).read_text(encoding="utf-8")
        tests = (directory / TEST_FILE).read_text(encoding="utf-8")
        if sha256_text(tool) != record.sha256.get("tool") or sha256_text(tests) != record.sha256.get("tests"):
            raise ToolStoreError(
                f"tool {name!r} was changed on disk since it was registered (sha256 differs)"
            )
        return Tool(record, tool, tests)

    def records(self) -> list[ToolRecord]:
        found = []
        for name in self.names():
            with contextlib.suppress(ToolStoreError):
                found.append(self.record(name))
        return found

    def history(self, name: str) -> list[ToolRecord]:
        """Every version, oldest first, the current one last."""
        current = self.record(name)
        older = []
        for directory in (self._dir(name) / VERSIONS).glob("v*"):
            with contextlib.suppress(OSError, ValueError, TypeError):
                older.append(
                    ToolRecord.from_dict(json.loads((directory / META_FILE).read_text(encoding="utf-8")))
                )
        return [*sorted(older, key=lambda r: r.version), current]

    def save(
        self,
        name: str,
        tool_source: str,
        test_source: str,
        spec: dict[str, Any],
        *,
        verdict: dict[str, Any] | None,
        model: str = "",
        source: str = "synthesized",
        approved: bool = True,
    ) -> ToolRecord:
        """Register ``name``: version 1, or the next version with the current one kept."""
        target = self._dir(name)
        previous = self.record(name) if (target / META_FILE).exists() else None
        record = ToolRecord(
            name=name,
            version=(previous.version + 1) if previous else 1,
            spec=spec,
            sha256={"tool": sha256_text(tool_source), "tests": sha256_text(test_source)},
            model=model,
            source=source,
            verdict=verdict,
            usage_count=previous.usage_count if previous else 0,
            approved=approved,
        )
        staging = self.root / f"{STAGING}{name}-{secrets.token_hex(4)}"
        staging.mkdir()
        try:
            if previous is not None:
                if (target / VERSIONS).exists():
                    shutil.copytree(target / VERSIONS, staging / VERSIONS)
                keep = staging / VERSIONS / f"v{previous.version}"
                keep.mkdir(parents=True)
                for filename in (TOOL_FILE, TEST_FILE, META_FILE):
                    shutil.copy2(target / filename, keep / filename)
            _write(staging / TOOL_FILE, tool_source)
            _write(staging / TEST_FILE, test_source)
            _write(staging / META_FILE, json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
            _fsync_dir(staging)
            self._swap_in(staging, target)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def _swap_in(self, staging: Path, target: Path) -> None:
        if target.exists():
            old = self.root / f"{OLD}{target.name}-{secrets.token_hex(4)}"
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
        _fsync_dir(self.root)

    def update(self, name: str, **changes: Any) -> ToolRecord:
        """Change metadata of the current version (verdict, usage count): ``tool.json`` only."""
        record = self.record(name)
        for key, value in changes.items():
            setattr(record, key, value)
        _write_atomic(self._dir(name) / META_FILE, json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
        return record

    def remove(self, name: str) -> None:
        target = self._dir(name)
        if not (target / META_FILE).exists():
            raise ToolStoreError(f"no tool named {name!r}")
        trash = self.root / f"{TRASH}{name}-{secrets.token_hex(4)}"
        os.replace(target, trash)
        shutil.rmtree(trash, ignore_errors=True)

    def export(self, name: str, destination: Path) -> Path:
        tool = self.load(name)
        destination.mkdir(parents=True, exist_ok=True)
        for filename, text in (
            (TOOL_FILE, tool.tool_source),
            (TEST_FILE, tool.test_source),
            (META_FILE, json.dumps(tool.record.to_dict(), indent=2, ensure_ascii=False)),
        ):
            _write_atomic(destination / filename, text)
        return destination
