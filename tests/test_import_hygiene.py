"""core/ is a library that knows nothing about screens: importing all of it loads no Textual."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import tui_agent.core


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
