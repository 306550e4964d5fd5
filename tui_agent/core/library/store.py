"""The tool library on disk, the source of truth: ``tools/<name>/`` holds ``tool.py``,
``test_tool.py`` and ``tool.json``; older versions live in ``tools/<name>/versions/v<N>/``.

A new version is built complete in a staging directory and swapped in with renames, so a write
interrupted at any point leaves the previous version intact; a crash between the two renames is
undone on the next start. Several processes share one library: every change takes the library's
file lock, and recovery touches only what a process that is gone left behind. A name is never
taken over: ``create`` refuses a name in use, only ``add_version`` adds to a tool."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from filelock import FileLock
from pydantic import TypeAdapter, ValidationError

from tui_agent.core.library.durable import fsync_dir, write_atomic, write_new
from tui_agent.core.library.git_journal import GitJournal, GitJournalError, change_note, git_available
from tui_agent.core.lifeline import alive
from tui_agent.core.tool.record import (
    META_FILE,
    TEST_FILE,
    TOOL_FILE,
    Tool,
    ToolRecord,
    ToolStoreError,
    sha256_cases,
    sha256_text,
    validate_name,
)
from tui_agent.core.tool.spec import ToolSpec

VERSIONS = "versions"
STAGING = ".staging-"
OLD = ".old-"
TRASH = ".trash-"
LOCK = ".lock"
GENERATION = ".generation"
RECORD = TypeAdapter(ToolRecord)
LOAD_ATTEMPTS = 8


class ToolExistsError(ToolStoreError):
    """``create`` found the name in use: a new tool takes a free name, never an existing one."""


def _owneralive(entry: Path, prefix: str) -> bool:
    """Leftovers are named ``<prefix><name>-<pid>-<random>``; an entry without a pid predates
    owners and is treated as left by a dead process."""
    parts = entry.name[len(prefix) :].rsplit("-", 2)
    return len(parts) == 3 and parts[1].isdigit() and alive(int(parts[1]))


def parse_record(data: Any, where: str) -> ToolRecord:
    """A ``tool.json`` of any shape: a valid record, or a ToolStoreError saying what is wrong."""
    if isinstance(data, dict):
        data = {k: v for k, v in data.items() if k in ToolRecord.__dataclass_fields__}
    try:
        record = RECORD.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        place = ".".join(map(str, first["loc"])) or "record"
        raise ToolStoreError(f"{where} is corrupt: {place}: {first['msg']}") from None
    if not {"tool", "tests"} <= set(record.sha256):
        raise ToolStoreError(f"{where} is corrupt: sha256 lacks the tool or tests hash")
    try:
        ToolSpec.model_validate(record.spec)
    except ValidationError as exc:
        raise ToolStoreError(f"{where} has an unusable spec: {str(exc).splitlines()[0]}") from None
    return record


class ToolReader:
    """Reading the library: current versions, history, the generation. Takes no lock: a save
    swaps a whole directory in with renames, so a reader sees the old version or the new."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def generation(self) -> str:
        """Changes whenever a tool is created, versioned, verified or removed, by any process: a
        reader that saw this value before knows its view (its index) is current."""
        try:
            return (self.root / GENERATION).read_text().strip()
        except OSError:
            return ""

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
        for _ in range(50):
            try:
                text = path.read_text(encoding="utf-8")
                break
            except FileNotFoundError:
                # another process may be between the two renames of a save
                if not any(self.root.glob(f"{OLD}{name}-*")):
                    raise ToolStoreError(f"no tool named {name!r}") from None
                time.sleep(0.01)
        else:
            raise ToolStoreError(f"no tool named {name!r}")
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ToolStoreError(f"{path} is corrupt: not JSON ({exc})") from None
        return parse_record(data, str(path))

    def load(self, name: str) -> Tool:
        """The current version, checked against its recorded sha256. The record and the files are
        read one after the other, and another process may swap a new version in between: a
        mismatch is read again, and only one that stays (the files really changed on disk
        behind the library's back) is reported."""
        for attempt in range(LOAD_ATTEMPTS):
            record = self.record(name)
            try:
                return self._load_files(name, record)
            except ToolStoreError:
                if attempt == LOAD_ATTEMPTS - 1 or self._stable(name, record):
                    raise
            time.sleep(0.005 * (attempt + 1))
        raise AssertionError("unreachable")

    def _stable(self, name: str, record: ToolRecord) -> bool:
        """Whether the tool's record is still ``record`` (no save happened while we read)."""
        try:
            return self.record(name).to_dict() == record.to_dict()
        except ToolStoreError:
            return False

    def _load_files(self, name: str, record: ToolRecord) -> Tool:
        directory = self._dir(name)
        try:
            tool = (directory / TOOL_FILE).read_text(encoding="utf-8")
            tests = (directory / TEST_FILE).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ToolStoreError(f"tool {name!r} is missing a file ({exc})") from None
        changed = sha256_text(tool) != record.sha256.get("tool") or sha256_text(tests) != record.sha256.get(
            "tests"
        )
        if "cases" in record.sha256 and sha256_cases(record.cases) != record.sha256["cases"]:
            changed = True
        if changed:
            raise ToolStoreError(
                f"tool {name!r} was changed on disk since it was registered (sha256 differs)"
            )
        return Tool(record, tool, tests)

    def scan(self) -> tuple[list[ToolRecord], dict[str, str]]:
        """Every tool's record, and the broken ones by name with the reason: one corrupt
        record breaks that tool, never the library."""
        found, broken = [], {}
        for name in self.names():
            try:
                found.append(self.record(name))
            except ToolStoreError as exc:
                broken[name] = str(exc)
        return found, broken

    def records(self) -> list[ToolRecord]:
        return self.scan()[0]

    def history(self, name: str) -> list[ToolRecord]:
        """Every version, oldest first, the current one last."""
        current = self.record(name)
        older = []
        for directory in (self._dir(name) / VERSIONS).glob("v*"):
            with contextlib.suppress(OSError, ValueError, ToolStoreError):
                older.append(
                    parse_record(
                        json.loads((directory / META_FILE).read_text(encoding="utf-8")), str(directory)
                    )
                )
        return [*sorted(older, key=lambda r: r.version), current]

    def load_version(self, name: str, version: int) -> Tool:
        """An older version's files, as they were kept."""
        current = self.load(name)
        if version == current.record.version:
            return current
        directory = self._dir(name) / VERSIONS / f"v{version}"
        try:
            record = parse_record(
                json.loads((directory / META_FILE).read_text(encoding="utf-8")), str(directory)
            )
            tool = (directory / TOOL_FILE).read_text(encoding="utf-8")
            tests = (directory / TEST_FILE).read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:
            raise ToolStoreError(f"{name} has no readable version {version} ({exc})") from None
        return Tool(record, tool, tests)

    def free_name(self, base: str) -> str:
        """``base`` if no tool has it, else ``base_2``, ``base_3``..."""
        validate_name(base)
        name, n = base, 2
        while (self.root / name).exists():
            name, n = f"{base}_{n}", n + 1
        return name


class ToolStore(ToolReader):
    """Reading and writing: every change takes the library's file lock."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.lock = FileLock(root / LOCK, timeout=60)
        self.journal = GitJournal(root) if git_available() else None
        self.journal_trouble = ""  # the last commit that failed (the change itself is kept)
        self.recovered = self.recover()

    # --- locking and recovery ---------------------------------------------------------

    @contextlib.contextmanager
    def locked(self) -> Iterator[None]:
        """The library's write lock, shared by every process on this home (re-entrant)."""
        with self.lock:
            yield

    def _bump(self, why: str = "", name: str = "") -> None:
        write_atomic(self.root / GENERATION, f"{time.time_ns()}-{os.getpid()}-{secrets.token_hex(3)}\n")
        if why and self.journal is not None:
            try:  # the files are the truth: a commit that fails loses nothing but the entry
                self.journal.commit(why, *([name] if name else []))
            except (GitJournalError, OSError) as exc:
                self.journal_trouble = str(exc)

    def recover(self) -> list[str]:
        """Undo what a crash mid-save left, for processes that are gone: drop their staging dirs,
        put a swapped-out version back. Live processes' work in progress is left alone."""
        notes = []
        with self.locked():
            for entry in self.root.glob(f"{OLD}*"):
                if _owneralive(entry, OLD):
                    continue
                name = entry.name[len(OLD) :].rsplit("-", 2)[0]
                current = self.root / name
                if current.exists():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    os.replace(entry, current)
                    notes.append(f"restored {name} after an interrupted save")
            for prefix in (STAGING, TRASH):
                for entry in self.root.glob(f"{prefix}*"):
                    if not _owneralive(entry, prefix):
                        shutil.rmtree(entry, ignore_errors=True)
                        notes.append(f"dropped an interrupted save ({entry.name})")
        return notes

    def _scratch(self, prefix: str, name: str) -> Path:
        return self.root / f"{prefix}{name}-{os.getpid()}-{secrets.token_hex(4)}"

    # --- writing ----------------------------------------------------------------------

    def create(
        self, name: str, tool_source: str, test_source: str, spec: dict[str, Any], **fields: Any
    ) -> ToolRecord:
        """Version 1 of a new tool; ToolExistsError when the name is in use."""
        with self.locked():
            if (self._dir(name)).exists():
                raise ToolExistsError(f"a tool named {name!r} already exists")
            return self._save(name, tool_source, test_source, spec, None, fields)

    def add_version(
        self, name: str, tool_source: str, test_source: str, spec: dict[str, Any], **fields: Any
    ) -> ToolRecord:
        """The next version of an existing tool; the current one is kept under versions/."""
        with self.locked():
            previous = self.record(name)
            return self._save(name, tool_source, test_source, spec, previous, fields)

    def _save(
        self,
        name: str,
        tool_source: str,
        test_source: str,
        spec: dict[str, Any],
        previous: ToolRecord | None,
        fields: dict[str, Any],
    ) -> ToolRecord:
        cases = list(fields.pop("cases", []) or [])
        sha = {
            "tool": sha256_text(tool_source),
            "tests": sha256_text(test_source),
            "cases": sha256_cases(cases),
        }
        # a tool's record (uses, answers, failures, corrections, phrasings) spans its versions
        carried = (
            {
                key: getattr(previous, key)
                for key in ("usage_count", "answers", "failures", "corrections", "last_used", "phrasings")
            }
            if previous
            else {}
        )
        record = ToolRecord(
            name=name,
            version=(previous.version + 1) if previous else 1,
            spec=spec,
            sha256=sha,
            cases=cases,
            **{**carried, **fields},
        )
        target = self._dir(name)
        staging = self._scratch(STAGING, name)
        staging.mkdir()
        try:
            if previous is not None:
                if (target / VERSIONS).exists():
                    shutil.copytree(target / VERSIONS, staging / VERSIONS)
                keep = staging / VERSIONS / f"v{previous.version}"
                keep.mkdir(parents=True)
                for filename in (TOOL_FILE, TEST_FILE, META_FILE):
                    shutil.copy2(target / filename, keep / filename)
            write_new(staging / TOOL_FILE, tool_source)
            write_new(staging / TEST_FILE, test_source)
            write_new(staging / META_FILE, json.dumps(record.to_dict(), indent=2, ensure_ascii=False))
            fsync_dir(staging)
            self._swap_in(staging, target)
            self._bump(f"{name} v{record.version}: {record.why or record.source}", name)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return record

    def _swap_in(self, staging: Path, target: Path) -> None:
        if target.exists():
            old = self._scratch(OLD, target.name)
            os.replace(target, old)
            os.replace(staging, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(staging, target)
        fsync_dir(self.root)

    def count(self, name: str, **increments: int) -> ToolRecord:
        """Add to a tool's record under the lock, so two processes counting at once lose nothing."""
        with self.locked():
            record = self.record(name)
            changes: dict[str, Any] = {key: getattr(record, key) + n for key, n in increments.items()}
            changes["last_used"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            return self.update(name, **changes)

    def update(self, name: str, **changes: Any) -> ToolRecord:
        """Change metadata of the current version (verdict, approval, usage): ``tool.json`` only."""
        with self.locked():
            record = self.record(name)
            for key, value in changes.items():
                setattr(record, key, value)
            write_atomic(
                self._dir(name) / META_FILE, json.dumps(record.to_dict(), indent=2, ensure_ascii=False)
            )
            if "verdict" in changes or "phrasings" in changes or "approved" in changes:
                self._bump(change_note(name, record, changes), name)
            return record

    def remove(self, name: str) -> None:
        with self.locked():
            target = self._dir(name)
            if not target.exists():
                raise ToolStoreError(f"no tool named {name!r}")
            trash = self._scratch(TRASH, name)
            os.replace(target, trash)
            self._bump(f"{name}: removed", name)
        shutil.rmtree(trash, ignore_errors=True)
