"""Tools travelling in and out of a library as folders: exported tools, imported ones and the
starter tools shipped with the app."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tui_agent.core.tool.record import META_FILE, TEST_FILE, TOOL_FILE, ToolStoreError
from tui_agent.core.tool.spec import ToolSpec

STARTER_DIR = Path(__file__).resolve().parent.parent.parent / "starter_tools"
STARTERS_MARKER = ".starters-imported"


class RegistryError(ToolStoreError):
    pass


def read_tool_dir(directory: Path) -> tuple[str, str, ToolSpec, dict[str, Any]]:
    """tool.py, test_tool.py and the spec (with the rest of tool.json) of an exported or
    starter tool; RegistryError says in one line what is wrong."""
    try:
        tool_source = (directory / TOOL_FILE).read_text(encoding="utf-8")
        test_source = (directory / TEST_FILE).read_text(encoding="utf-8")
        meta = json.loads((directory / META_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RegistryError(f"{directory} is not a tool directory ({exc})") from None
    try:
        spec = ToolSpec.model_validate(meta.get("spec", meta))
    except ValueError as exc:
        raise RegistryError(
            f"{directory}/{META_FILE} has no valid spec: {str(exc).splitlines()[0]}"
        ) from None
    return tool_source, test_source, spec, meta


def starter_dirs() -> list[Path]:
    return sorted(p for p in STARTER_DIR.iterdir() if (p / META_FILE).exists())
