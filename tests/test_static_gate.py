"""The static gate refuses, with the line, what no tool needs and what could forge a verdict."""

from __future__ import annotations

import pytest

from tui_agent.core.sandbox.static_gate import GateError, gate_tests, gate_tool, inventory

GOOD_TOOL = '''
import math
from datetime import date


def days_between(a: str, b: str) -> int:
    """Whole days from a to b (ISO dates)."""
    return (date.fromisoformat(b) - date.fromisoformat(a)).days + 0 * int(math.pi)
'''

GOOD_TESTS = """
import pytest
from tool import days_between


def test_same_day():
    assert days_between("2024-01-01", "2024-01-01") == 0


@pytest.mark.parametrize(("a", "b", "n"), [("2024-01-01", "2024-01-31", 30), ("2024-02-01", "2024-03-01", 29)])
def test_known(a, b, n):
    assert days_between(a, b) == n


class TestErrors:
    def test_bad_date(self):
        with pytest.raises(ValueError):
            days_between("nope", "2024-01-01")
"""


def test_good_sources_pass_and_inventory_expands_parametrize() -> None:
    gate_tool(GOOD_TOOL, "days_between")
    found = gate_tests(GOOD_TESTS)
    assert found.names == ("test_same_day", "test_known", "TestErrors::test_bad_date")
    assert found.count == 4


@pytest.mark.parametrize(
    ("line", "what"),
    [
        ("import os\nos._exit(0)", "os._exit"),
        ("import atexit", "import atexit"),
        ("import ctypes", "import ctypes"),
        ("import sys\nsys.modules['tool'] = None", "sys.modules"),
        ("import _pytest.reports", "import _pytest.reports"),
        ("import pytest\npytest.exit('x', returncode=0)", "pytest.exit"),
        ("import pytest\npytest.skip('x')", "pytest.skip"),
        ("import pytest\n@pytest.mark.skip\ndef test_x():\n    pass", "pytest.mark.skip"),
        ("import pytest\n@pytest.mark.xfail\ndef test_x():\n    pass", "pytest.mark.xfail"),
        ("pytest_plugins = ['tool']", "pytest_plugins"),
        ("def pytest_runtest_makereport(item, call):\n    pass", "pytest hook"),
        ("import tool\ntool.days_between = lambda a, b: 0", "assigning to an attribute of the imported tool"),
        (
            "from tool import days_between\ndays_between = lambda a, b: 0",
            "rebinding the imported name days_between",
        ),
        (
            "from tool import days_between\ndef days_between(a, b):\n    return 0",
            "redefining the imported name",
        ),
        ("def test_x(monkeypatch):\n    pass", "monkeypatch"),
        ("import gc", "import gc"),
        ("x = (lambda: 0).__globals__", "__globals__"),
        ("exec('1')", "exec"),
        ("import subprocess", "import subprocess"),
        ("async def test_x():\n    pass", "async test"),
    ],
)
def test_forbidden_constructs_are_refused_with_their_line(line: str, what: str) -> None:
    source = "x = 1\n" + line + "\n"
    with pytest.raises(GateError) as info:
        gate_tests(source + "def test_ok():\n    assert True\n")
    message = str(info.value)
    assert what in message
    assert "line " in message and "line 1:" not in message


def test_tool_must_define_the_function_and_parse() -> None:
    with pytest.raises(GateError, match="defines no top-level function 'f'"):
        gate_tool("def g():\n    return 1\n", "f")
    with pytest.raises(GateError, match="line 1: does not parse"):
        gate_tool("def f(:\n", "f")


def test_tests_must_exist_and_parametrize_must_be_countable() -> None:
    with pytest.raises(GateError, match="defines no test functions"):
        gate_tests("from tool import f\n")
    with pytest.raises(GateError, match="literal list"):
        inventory(
            "import pytest\nCASES = [1, 2]\n@pytest.mark.parametrize('x', CASES)\ndef test_x(x):\n    pass\n"
        )
    with pytest.raises(GateError, match="defined twice"):
        inventory("def test_x():\n    pass\ndef test_x():\n    pass\n")
