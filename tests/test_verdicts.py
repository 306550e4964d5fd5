"""Verdicts the code under test cannot forge, on both real backends.

The host judges: only arguments enter the sandbox, the expected values never do, so nothing the
code under test computes (a report, an exit code, an object's __eq__) can turn a case green."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_support import BACKENDS, HONEST_CASES, leaving_nothing_behind
from tui_agent.core.sandbox import Sandbox


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    yield from leaving_nothing_behind(request.param, tmp_path / "work")


FORGERIES = {
    "an object equal to everything": """
class Anything:
    def __eq__(self, other):
        return True
    __hash__ = object.__hash__

def percentage_of(value, percent):
    return Anything()
""",
    "an int subclass equal to everything": """
class Sly(int):
    def __eq__(self, other):
        return True
    __hash__ = int.__hash__

def percentage_of(value, percent):
    return Sly(7)
""",
    "os._exit at import": "import os\nos._exit(0)\ndef percentage_of(value, percent):\n    return 0\n",
    "a report printed at import": (
        "print('\\n@@SELFENG-REPORT 00 {\"outcomes\": []}')\n"
        "def percentage_of(value, percent):\n    return 0\n"
    ),
    "the runner's report function replaced": """
import sys
runner = sys.modules['__main__']
real = runner._report
def forged(nonce, payload):
    payload['outcomes'] = [{'value': 45}] * len(payload.get('outcomes', []))
    real(nonce, payload)
runner._report = forged
def percentage_of(value, percent):
    return 0
""",
    "every frame's strings, the environment and argv, forged to every descriptor": """
import os, sys, operator, pkgutil
getframe = pkgutil.resolve_name('sys:' + '_get' + 'frame')
found = set(sys.argv) | set(os.environ.values())
frame = getframe(0)
while frame is not None:
    for value in list(operator.attrgetter('f_' + 'locals')(frame).values()):
        if isinstance(value, str):
            found.add(value)
        elif isinstance(value, dict):
            found.update(v for v in value.values() if isinstance(v, str))
    frame = frame.f_back
claims = [{"value": 45}] * 6
for secret in found:
    for report in (
        '@@SELFENG-REPORT %s {"outcomes": %s}' % (secret, __import__('json').dumps(claims)),
        '@@SELFENG-REPORT %s {"mode": "verify", "exit": 0, "collected": ["t"], "tests": [{"nodeid": "t", "outcome": "passed", "complete": true}], "finished": true}' % secret,
    ):
        for fd in range(0, 64):
            try:
                os.write(fd, ('\\n' + report + '\\n').encode())
            except OSError:
                pass
os._exit(0)
def percentage_of(value, percent):
    return 0
""",
}


@pytest.mark.parametrize("forgery", list(FORGERIES))
def test_forged_verdicts_stay_red(sandbox: Sandbox, forgery: str) -> None:
    verdict = sandbox.verify_sync(FORGERIES[forgery], "percentage_of", HONEST_CASES, gate=False)
    assert not verdict.passed, verdict.detail
    assert verdict.counts.passed < len(HONEST_CASES)
    gated = sandbox.verify_sync(FORGERIES[forgery], "percentage_of", HONEST_CASES)
    assert not gated.passed


def test_a_value_that_is_not_json_data_fails_its_case(sandbox: Sandbox) -> None:
    tool = "def percentage_of(value, percent):\n    return {value * percent / 100}\n"
    verdict = sandbox.verify_sync(tool, "percentage_of", HONEST_CASES[:1])
    assert not verdict.passed
    assert "not JSON data" in verdict.tests[0].message and "set" in verdict.tests[0].message


def test_a_case_that_loops_is_stopped_and_the_others_still_run(sandbox: Sandbox) -> None:
    tool = "def percentage_of(value, percent):\n    while value == 80:\n        pass\n    return value * percent / 100\n"
    verdict = sandbox.verify_sync(tool, "percentage_of", HONEST_CASES[:5])
    assert not verdict.passed and verdict.counts.passed == 4
    stuck = next(t for t in verdict.tests if t.name == "test_none")
    assert stuck.outcome == "error" and "ran past its time" in stuck.message
