"""Tools travelling in and out of a library as folders: exported tools, imported ones and the
starter tools shipped with the app. Reading a folder is :mod:`folders`; a folder that did not
ship with the app is read by :mod:`untrusted`, bounded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tui_agent.core.library.folders import (
    RegistryError,
    ToolFolder,
    cases_of,
    plain_folder,
    read_tool_dir,
    tool_cases,
)
from tui_agent.core.library.store import ToolReader, ToolStore
from tui_agent.core.library.untrusted import read_untrusted_dir
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.record import META_FILE, TEST_FILE, TOOL_FILE, ToolRecord

__all__ = [
    "RegistryError",
    "ToolFolder",
    "cases_of",
    "export_tool",
    "import_folder",
    "import_starters",
    "plain_folder",
    "read_tool_dir",
    "tool_cases",
]

Verify = Callable[[str, str, list[TestCase]], Any]  # (tool source, function, cases) -> Verdict

STARTER_DIR = Path(__file__).resolve().parent.parent.parent / "starter_tools"
STARTERS_MARKER = ".starters-imported"


def starter_dirs() -> list[Path]:
    return sorted(p for p in STARTER_DIR.iterdir() if (p / META_FILE).exists())


def import_folder(
    store: ToolStore,
    directory: Path,
    *,
    verify: Verify | None = None,
    source: str = "imported",
    replace: bool = False,
    approved: bool = False,
) -> ToolRecord:
    """Put the tool in ``directory`` into the store (the index catches up from the files),
    verified when ``verify`` is given: a red verdict refuses it. An existing name is refused
    unless ``replace`` (then it becomes that tool's next version); imported tools run only after a
    person approves them (``approved``). Only the starters, which ship with the app, are read in
    this process; any other folder is read bounded (:mod:`untrusted`)."""
    folder = read_tool_dir(directory) if source == "starter" else read_untrusted_dir(directory)
    if not replace and store.exists(folder.name):
        raise RegistryError(
            f"a tool named {folder.name!r} is already in the library: add --replace to make the import its next version"
        )
    if not folder.cases:
        reasons = "; ".join(folder.unread[:3]) or "no tests"
        raise RegistryError(f"{folder.name}: no test could be read as a case ({reasons})")
    verdict = None
    if verify is not None:
        result = verify(folder.tool_source, folder.spec.function_name, folder.cases)
        if not result.passed:
            raise RegistryError(f"{folder.name} failed verification ({result.reason}): {result.detail}")
        verdict = result.to_record()
    save = store.add_version if replace and store.exists(folder.name) else store.create
    return save(
        folder.name,
        folder.tool_source,
        folder.test_source,
        folder.spec.model_dump(),
        cases=[c.model_dump() for c in folder.cases],
        verdict=verdict,
        model=str(folder.meta.get("model", "")),
        source=source,
        approved=approved,
        unread_tests=folder.unread,
        phrasings=[p for p in folder.meta.get("phrasings") or [] if isinstance(p, str)][:24]
        if isinstance(folder.meta.get("phrasings"), list)
        else [],
        why=source,
    )


def needs_starters(store: ToolStore) -> bool:
    return not (store.root / STARTERS_MARKER).exists() and not store.names()


def import_starters(store: ToolStore, verify: Verify | None = None) -> list[str]:
    """Bring the shipped starter tools into a library that has never had them. They come with
    the app, so they count as approved; they are verified like any other tool."""
    with store.locked():
        if not needs_starters(store):
            return []
        imported = []
        for directory in starter_dirs():
            import_folder(store, directory, verify=verify, source="starter", approved=True)
            imported.append(directory.name)
        (store.root / STARTERS_MARKER).write_text("\n".join(imported) + "\n")
    return imported


def export_tool(store: ToolReader, name: str, destination: Path) -> Path:
    """A folder that imports back the same way: the two files and ``tool.json`` (spec and cases)."""
    tool = store.load(name)
    destination.mkdir(parents=True, exist_ok=True)
    for filename, text in (
        (TOOL_FILE, tool.tool_source),
        (TEST_FILE, tool.test_source),
        (META_FILE, json.dumps(tool.record.to_dict(), indent=2, ensure_ascii=False)),
    ):
        tmp = destination / f".{filename}.tmp"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(destination / filename)
    return destination
