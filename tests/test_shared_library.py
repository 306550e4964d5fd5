"""One library, several processes, and records damaged on disk: nothing is lost, nothing taken
over, and one broken tool never stops the library, the dashboard or the MCP server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from mcp import Client, StdioServerParameters

from tests.scripted_model import ScriptedModel
from tests.tui.conftest import make_app, running
from tui_agent.core.config import load_settings
from tui_agent.core.library.store import ToolStore

EXE = str(Path(sys.executable).parent / "selfeng-tui")
DOUBLE_SPEC = {
    "function_name": "double_it",
    "description": "Double a number.",
    "parameters": [{"name": "x", "type": "float", "description": "the number"}],
    "return_type": "float",
    "examples": [{"args": {"x": 2}, "result": 4.0}],
}
DOUBLE_CASES = {
    "cases": [
        {"name": "three", "args": {"x": 3}, "expected": 6.0},
        {"name": "zero", "args": {"x": 0}, "expected": 0.0},
        {"name": "negative", "args": {"x": -1.5}, "expected": -3.0},
    ]
}
DOUBLE = "def double_it(x: float) -> float:\n    return 2 * x\n"


def test_two_processes_making_the_same_tool_at_once_keep_both(isolated_env: Path) -> None:
    """Both draft the name double_it at the same moment; both tools are kept, under two names,
    each one's function renamed with it."""
    with ScriptedModel() as first, ScriptedModel() as second:
        processes = []
        for model in (first, second):
            model.on("spec", DOUBLE_SPEC).on("tests", DOUBLE_CASES).code("implementation", DOUBLE)
            env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake"}
            processes.append(
                subprocess.Popen(
                    [EXE, "tools", "new", "double a number", "--json", "--set", "import_starters=false"],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                    env=env,
                )
            )
        results = [p.communicate(timeout=300) for p in processes]
    assert [p.returncode for p in processes] == [0, 0], [err[-500:] for _out, err in results]
    store = ToolStore(isolated_env / "tools")
    assert store.names() == ["double_it", "double_it_2"]
    for name in store.names():
        tool = store.load(name)
        assert tool.record.version == 1 and f"def {name}(" in tool.tool_source
        assert tool.record.verified


def test_asking_for_a_new_tool_under_a_name_the_library_has_makes_another(isolated_env: Path) -> None:
    """What the race above comes to when one process is first: `tools new` asks for a new tool,
    so the one already under the drafted name is kept and the new one gets a free name."""
    with ScriptedModel() as model:
        for _ in range(2):
            model.on("spec", DOUBLE_SPEC).on("tests", DOUBLE_CASES).code("implementation", DOUBLE)
        env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake"}
        command = [EXE, "tools", "new", "double a number", "--json", "--set", "import_starters=false"]
        runs = [
            subprocess.run(command, capture_output=True, text=True, env=env, timeout=300) for _ in range(2)
        ]
    assert [run.returncode for run in runs] == [0, 0], [run.stderr[-500:] for run in runs]
    assert [json.loads(run.stdout.splitlines()[-1])["name"] for run in runs] == ["double_it", "double_it_2"]
    assert ToolStore(isolated_env / "tools").names() == ["double_it", "double_it_2"]


WRITER = textwrap.dedent(
    """
    import sys
    from tui_agent.core.library.store import ToolStore
    store = ToolStore(__import__("pathlib").Path(sys.argv[1]))
    for i in range(int(sys.argv[3])):
        store.add_version("shout", f"def shout(text):\\n    return text.upper()  # {sys.argv[2]} {i}\\n",
                          "", {"function_name": "shout", "parameters": [{"name": "text", "type": "str"}]},
                          verdict=None, model=sys.argv[2])
    """
)


def test_two_processes_adding_versions_lose_none(isolated_env: Path) -> None:
    store = ToolStore(isolated_env / "tools")
    spec = {"function_name": "shout", "parameters": [{"name": "text", "type": "str"}]}
    store.create("shout", "def shout(text):\n    return text.upper()\n", "", spec, verdict=None)
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(store.root), who, "15"]) for who in ("a", "b")
    ]
    assert [w.wait(timeout=120) for w in writers] == [0, 0]
    history = store.history("shout")
    assert [r.version for r in history] == list(range(1, 32))
    assert sorted(r.model for r in history[1:]).count("a") == 15
    kept = {(r.model, store.load_version("shout", r.version).tool_source) for r in history[1:]}
    assert len(kept) == 30  # every version's own code, none overwritten
    assert not [p for p in store.root.iterdir() if p.name.startswith((".staging-", ".old-", ".trash-"))]


def test_recovery_leaves_a_live_process_work_alone(isolated_env: Path) -> None:
    root = isolated_env / "tools"
    root.mkdir(parents=True)
    live = root / f".staging-shout-{os.getppid()}-abcd1234"  # a process that is running
    dead = root / ".staging-shout-999999999-abcd1234"
    live.mkdir()
    dead.mkdir()
    ToolStore(root)
    assert live.exists() and not dead.exists()


CORRUPT = {
    "not json": "{ this is not json",
    "a list": "[1, 2, 3]",
    "empty object": "{}",
    "wrong types": json.dumps({"name": 5, "version": "two", "spec": [], "sha256": "x"}),
    "spec that is no spec": None,  # filled below from a valid record
    "binary": "\x00\x01\x02",
}


def damage(home: Path, shape: str) -> None:
    meta = home / "tools" / "is_prime" / "tool.json"
    if shape == "spec that is no spec":
        data = json.loads(meta.read_text())
        data["spec"] = {"function_name": 7}
        meta.write_text(json.dumps(data))
    else:
        meta.write_text(CORRUPT[shape])


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


@pytest.mark.parametrize("shape", list(CORRUPT))
def test_a_corrupt_record_breaks_only_its_tool_in_tools_list(isolated_env: Path, shape: str) -> None:
    assert cli("tools", "list").returncode == 0  # the starters
    damage(isolated_env, shape)
    listed = cli("tools", "list")
    assert listed.returncode == 0, listed.stderr
    line = next(line for line in listed.stdout.splitlines() if line.startswith("is_prime"))
    assert "BROKEN" in line and ("corrupt" in line or "unusable spec" in line)
    assert any(line.startswith("percentage_of") and "passed" in line for line in listed.stdout.splitlines())
    rows = json.loads(cli("tools", "list", "--json").stdout)
    assert {r["name"]: r.get("broken", "") != "" for r in rows}["is_prime"] is True


async def test_a_corrupt_record_does_not_stop_the_mcp_server(isolated_env: Path) -> None:
    assert cli("tools", "list").returncode == 0
    ToolStore(isolated_env / "tools").update("percentage_of", approved=True)
    damage(isolated_env, "wrong types")
    params = StdioServerParameters(command=EXE, args=["mcp"], env={**os.environ, "SELFENG_SANDBOX_POOL": "0"})
    async with Client(params, read_timeout_seconds=60) as client:
        names = {t.name for t in (await client.list_tools()).tools}
        assert "percentage_of" in names and "is_prime" not in names
        result = await client.call_tool("percentage_of", {"value": 300, "percent": 15})
        assert result.structured_content == {"result": 45.0}


async def test_a_corrupt_record_does_not_stop_the_dashboard(isolated_env: Path) -> None:
    assert cli("tools", "list").returncode == 0
    damage(isolated_env, "not json")
    with ScriptedModel() as model:
        app = make_app(model.base_url)
        async with running(app):
            assert app.services is not None and app.engine_error is None
            shown = {e.name for e in app.dashboard.library.entries}
            assert "percentage_of" in shown
    assert load_settings().tools_dir.exists()
