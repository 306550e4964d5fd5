"""One real request, end to end, with the embedded local model on a fresh home and an empty
library: the default configuration a new user gets, no API key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tui_agent.core.llm.model_files import shared_model_file

pytestmark = pytest.mark.local_model
EXE = Path(sys.executable).parent / "selfeng-tui"


def run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=600, env=env)


def test_reverse_hello_is_synthesised_verified_answered_and_retestable(isolated_env: Path) -> None:
    model = shared_model_file()
    assert model.exists(), "run ./scripts/setup.sh: it pulls the local model"
    env = {**os.environ, "SELFENG_LOCAL_MODEL_FILE": str(model), "SELFENG_IMPORT_STARTERS": "false"}
    asked = run("ask", "--yes", "--json", "Reverse the string 'hello'", env=env)
    assert asked.returncode == 0, asked.stderr + asked.stdout[-2000:]
    events = [json.loads(line) for line in asked.stdout.splitlines()]
    answer = events[-1]
    assert answer["type"] == "answer" and answer["verified"] is True
    assert "olleh" in answer["text"] and answer["value"] == "olleh"
    assert any(e["type"] == "tool_registered" for e in events)

    listed = json.loads(run("tools", "list", "--json", env=env).stdout)
    assert [t["name"] for t in listed] == [answer["tool"]]
    assert listed[0]["verdict"] == "passed"
    retest = run("tools", "test", answer["tool"], env=env)
    assert retest.returncode == 0, retest.stdout[-2000:]
    assert "PASSED" in retest.stdout
