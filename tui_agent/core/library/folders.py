"""A tool folder read into what it offers (sources, spec, cases, what could not be read), without
running anything in it. ``tool.json`` carries the spec and, when exported from a library, the
cases as data; cases missing there are read back from ``test_tool.py`` (plain asserts only);
what cannot be read is reported, never guessed. :mod:`untrusted` reads a folder someone shared
the same way, in a child process with a time and memory bound."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.infer import NotASpec, infer_spec
from tui_agent.core.tool.read_tests import read_tests
from tui_agent.core.tool.record import META_FILE, TEST_FILE, TOOL_FILE, Tool, ToolStoreError
from tui_agent.core.tool.spec import ToolSpec


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
    except (OSError, ValueError, RecursionError) as exc:
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
    return _refuse_costly(ToolFolder(name, tool_source, test_source, spec, cases, unread, meta))


def _refuse_costly(folder: ToolFolder) -> ToolFolder:
    """A folder whose test file asks the reader for unbounded work (``round(5, -10**18)``) or
    nests past reading is refused whole: no honest test is written so, even beside cases kept
    as data."""
    params = [p.name for p in folder.spec.parameters]
    costly = read_tests(folder.test_source, folder.spec.function_name, params).costly
    if costly:
        raise RegistryError(f"{folder.name} is refused: its tests ask for unbounded work ({costly[0][:160]})")
    return folder


def plain_folder(directory: Path, tool_source: str, test_source: str) -> ToolFolder:
    """A folder as people write it: ``tool.py`` with one public, typed, documented function and a
    ``test_tool.py`` of plain asserts. The spec comes from the signature and docstring."""
    try:
        spec = infer_spec(tool_source)
    except NotASpec as exc:
        raise RegistryError(f"{directory}: {exc}") from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise RegistryError(
            f"{directory}: tool.py is too deep or too large to read ({type(exc).__name__})"
        ) from None
    cases, unread = cases_of(spec, test_source, [])
    return _refuse_costly(
        ToolFolder(
            spec.function_name, tool_source, test_source, spec, cases, unread, {"model": "hand-written"}
        )
    )
