"""core/ is a library that knows nothing about screens: importing all of it loads no Textual."""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import tui_agent.core

ROOT = Path(__file__).resolve().parent.parent


def test_core_never_imports_textual() -> None:
    modules = [m.name for m in pkgutil.walk_packages(tui_agent.core.__path__, "tui_agent.core.")]
    assert "tui_agent.core.events" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == ""


def test_import_contracts_hold() -> None:
    """pyproject's import-linter contracts: core/ never imports Textual, widgets and screens never
    reach the model, sandbox or library, and core's rooms import only downwards."""
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run([str(lint)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "0 broken" in result.stdout


def test_modules_and_classes_stay_small() -> None:
    """A room a newcomer can read: no module over 400 lines, no class over 250."""
    import ast

    too_big = []
    for path in sorted((ROOT / "tui_agent").rglob("*.py")):
        text = path.read_text()
        lines = text.count("\n") + 1
        if lines > 400:
            too_big.append(f"{path.relative_to(ROOT)}: {lines} lines")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > 250:
                too_big.append(
                    f"{path.relative_to(ROOT)}: class {node.name} {node.end_lineno - node.lineno + 1} lines"
                )
    assert too_big == []


def test_reading_the_library_loads_no_model_libraries(isolated_env: Path) -> None:
    """`tools list` and `config` only read files: torch, sentence-transformers and ChromaDB stay
    unloaded (they cost seconds and hundreds of MB)."""
    probe = (
        "import sys\nfrom tui_agent.cli import main\n"
        "for argv in (['tools', 'list'], ['config']):\n"
        "    sys.argv = ['selfeng-tui', *argv]\n"
        "    try:\n        main()\n    except SystemExit:\n        pass\n"
        "print('HEAVY', sorted(m for m in ('torch', 'sentence_transformers', 'chromadb') if m in sys.modules))\n"
    )
    env = {**os.environ, "SELFENG_IMPORT_STARTERS": "false"}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


def test_no_import_cycle_anywhere() -> None:
    """No module of tui_agent imports, through any chain (TYPE_CHECKING imports included), a module
    that imports it back: each room can be read and changed from the bottom up."""
    import grimp

    graph = grimp.build_graph("tui_agent", include_external_packages=False)
    cycles = set()
    for importer in sorted(graph.modules):
        for imported in graph.find_modules_directly_imported_by(importer):
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                cycles.add(" -> ".join((importer, *back)))
    assert not cycles, "\n".join(sorted(cycles)[:10])


NUMBERISH = ("\\d+", "\\d{", "\\d*", "\\d[")


def test_one_definition_of_each_request_pattern() -> None:
    """Numbers, dates and word stems are read with the patterns of core/request/patterns.py alone:
    a second module with a number or date pattern of its own, or its own STEM, reads requests
    another way."""
    import ast

    home = ROOT / "tui_agent" / "core" / "request" / "patterns.py"
    found = []
    for path in sorted((ROOT / "tui_agent").rglob("*.py")):
        if path == home or "starter_tools" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if any(marker in node.value for marker in NUMBERISH):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {node.value[:50]!r}")
            elif isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == "STEM" for t in node.targets
            ):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: STEM defined again")
    assert not found, "\n".join(found)
