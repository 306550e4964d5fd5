"""Tools travelling in and out of a library as folders: exported tools, imported ones and the
starter tools shipped with the app.

A folder holds ``tool.py`` and ``test_tool.py``, and ``tool.json`` with the spec and, when it was
exported from a library, the test cases as data. Cases missing from ``tool.json`` are read back
from ``test_tool.py`` (plain asserts only); what cannot be read is reported, never guessed."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tui_agent.core.library.store import ToolReader, ToolStore
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.infer import NotASpec, infer_spec
from tui_agent.core.tool.read_tests import read_tests
from tui_agent.core.tool.record import META_FILE, TEST_FILE, TOOL_FILE, Tool, ToolRecord, ToolStoreError
from tui_agent.core.tool.spec import ToolSpec

Verify = Callable[[str, str, list[TestCase]], Any]  # (tool source, function, cases) -> Verdict

STARTER_DIR = Path(__file__).resolve().parent.parent.parent / "starter_tools"
STARTERS_MARKER = ".starters-imported"


class RegistryError(ToolStoreError):
    pass


@dataclass
class ToolFolder:
    """What a folder offers: sources, spec, cases and what of its tests could not be read."""

    name: str
    tool_source: str
    test_source: str
    spec: ToolSpec
    cases: list[TestCase]
    unread: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


def cases_of(
    spec: ToolSpec, test_source: str, stored: list[dict[str, Any]]
) -> tuple[list[TestCase], list[str]]:
    """The cases kept as data, or else those read back from the test file."""
    if stored:
        try:
            return [TestCase.model_validate(c) for c in stored], []
        except ValidationError as exc:
            return [], [f"tool.json cases are malformed: {str(exc).splitlines()[0]}"]
    found = read_tests(test_source, spec.function_name, [p.name for p in spec.parameters])
    return found.cases, found.unread


def tool_cases(tool: Tool) -> list[TestCase]:
    """The cases the host judges a stored tool by."""
    spec = ToolSpec.model_validate(tool.record.spec)
    return cases_of(spec, tool.test_source, tool.record.cases)[0]


def read_tool_dir(directory: Path) -> ToolFolder:
    """The tool in ``directory``; RegistryError says in one line what is wrong."""
    try:
        tool_source = (directory / TOOL_FILE).read_text(encoding="utf-8")
        test_source = (directory / TEST_FILE).read_text(encoding="utf-8")
    except (OSError, ValueError) as exc:
        raise RegistryError(
            f"{directory} is not a tool directory: it needs tool.py and test_tool.py ({exc})"
        ) from None
    if not (directory / META_FILE).exists():
        return plain_folder(directory, tool_source, test_source)
    try:
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{directory}/{META_FILE} is not readable JSON ({exc})") from None
    if not isinstance(meta, dict):
        raise RegistryError(f"{directory}/{META_FILE} is not a JSON object")
    try:
        spec = ToolSpec.model_validate(meta.get("spec", meta))
    except ValueError as exc:
        raise RegistryError(
            f"{directory}/{META_FILE} has no valid spec: {str(exc).splitlines()[0]}"
        ) from None
    stored = meta.get("cases") if isinstance(meta.get("cases"), list) else []
    cases, unread = cases_of(spec, test_source, stored)
    name = meta.get("name") if isinstance(meta.get("name"), str) else spec.function_name
    return ToolFolder(name, tool_source, test_source, spec, cases, unread, meta)


def plain_folder(directory: Path, tool_source: str, test_source: str) -> ToolFolder:
    """A folder as people write it: ``tool.py`` with one public, typed, documented function and a
    ``test_tool.py`` of plain asserts. The spec comes from the signature and docstring."""
    try:
        spec = infer_spec(tool_source)
    except NotASpec as exc:
        raise RegistryError(f"{directory}: {exc}") from None
    cases, unread = cases_of(spec, test_source, [])
    return ToolFolder(
        spec.function_name, tool_source, test_source, spec, cases, unread, {"model": "hand-written"}
    )


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
    person approves them (``approved``)."""
    folder = read_tool_dir(directory)
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
