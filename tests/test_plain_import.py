"""A tool folder as people write it by hand: tool.py with one typed, documented function and a
test_tool.py of plain asserts, no tool.json. It imports, verifies, waits for approval and is
found; what cannot be read is said, by name."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

EXE = str(Path(sys.executable).parent / "selfeng-tui")
TOOL = '''
def hypotenuse(a: float, b: float) -> float:
    """The hypotenuse of a right triangle from its two legs.

    >>> hypotenuse(3, 4)
    5.0
    """
    return (a * a + b * b) ** 0.5
'''
TESTS = """
import pytest
from tool import hypotenuse


def test_three_four_five():
    assert hypotenuse(3, 4) == 5.0


def test_five_twelve():
    assert hypotenuse(5.0, 12.0) == pytest.approx(13.0)


@pytest.mark.parametrize("a, b, c", [(6, 8, 10), (8, 15, 17)])
def test_table(a, b, c):
    assert hypotenuse(a, b) == c


def test_with_a_loop():
    for a in range(3):
        assert hypotenuse(a, 0) == a
"""


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


def test_a_plain_folder_imports_verifies_and_is_found(tmp_path: Path) -> None:
    folder = tmp_path / "hypotenuse"
    folder.mkdir()
    (folder / "tool.py").write_text(TOOL)
    (folder / "test_tool.py").write_text(TESTS)
    imported = cli("tools", "import", str(folder), "--json")
    assert imported.returncode == 0, imported.stderr
    record = json.loads(imported.stdout)
    assert record["name"] == "hypotenuse" and record["verdict"]["passed"] and record["approved"] is False
    assert len(record["cases"]) == 4  # the asserts and the parametrized table
    assert record["unread_tests"] == ["test_with_a_loop (line 19): line 20: for statement"]
    spec = record["spec"]
    assert [p["name"] for p in spec["parameters"]] == ["a", "b"]
    assert spec["examples"] == [{"args": {"a": 3, "b": 4}, "result": 5.0, "stated": True}]  # an anchor
    assert "not read as a case" in cli("tools", "show", "hypotenuse").stdout
    found = json.loads(cli("tools", "search", "length of the hypotenuse for legs 5 and 12", "--json").stdout)
    assert found["candidates"][0]["name"] == "hypotenuse"


def test_a_function_without_type_hints_is_refused_by_name(tmp_path: Path) -> None:
    folder = tmp_path / "loose"
    folder.mkdir()
    (folder / "tool.py").write_text(
        'def scale(x, factor: float) -> float:\n    """x times factor."""\n    return x * factor\n'
    )
    (folder / "test_tool.py").write_text(
        "from tool import scale\n\ndef test_a():\n    assert scale(2, 3) == 6\n"
    )
    refused = cli("tools", "import", str(folder))
    assert refused.returncode == 1
    assert (
        refused.stderr.strip()
        .splitlines()[-1]
        .endswith("parameter 'x' of scale has no type hint: write one (x: float)")
    )
