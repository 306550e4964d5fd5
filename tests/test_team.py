"""A library a team shares: two homes and a bare repository on disk (real git, no network). What
one home publishes reaches the other unapproved and verified again there; corrections travel;
the same name made twice keeps both; tampered code never runs; racing pushes lose nothing."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.scripted_model import ScriptedModel, program
from tests.test_orchestrator import services_for
from tui_agent.core.library.remotes import Remotes, State
from tui_agent.core.library.store import ToolStore
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.cases import TestCase, render_tests

EXE = str(Path(sys.executable).parent / "selfeng-tui")
SPEC = {
    "function_name": "percentage_of",
    "description": "A percentage of a value.",
    "parameters": [
        {"name": "percent", "type": "float", "description": "the percentage"},
        {"name": "value", "type": "float", "description": "the whole"},
    ],
    "return_type": "float",
}
CASES = [
    TestCase(name="a_quarter", args={"percent": 25, "value": 80}, expected=20.0),
    TestCase(name="all", args={"percent": 100, "value": 7}, expected=7.0),
]
MINE = "def percentage_of(percent: float, value: float) -> float:\n    return value * percent / 100\n"
THEIRS = "def percentage_of(percent: float, value: float) -> float:\n    return percent / 100 * value\n"
WRONG = "def percentage_of(percent: float, value: float) -> float:\n    return value * percent\n"


@pytest.fixture
def hub(tmp_path: Path) -> Path:
    bare = tmp_path / "hub.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(bare)], check=True)
    return bare


def home(tmp_path: Path, who: str, hub: Path, sandbox: Sandbox) -> Remotes:
    remotes = Remotes(ToolStore(tmp_path / who / "tools"), sandbox.verify_sync)
    remotes.add("team", str(hub))
    return remotes


def make(
    store: ToolStore, sandbox: Sandbox, source: str, tests: list[TestCase] = CASES, **fields: object
) -> None:
    """A verified tool (or its next version) in ``store``."""
    verdict = sandbox.verify_sync(source, "percentage_of", tests).to_record()
    save = store.add_version if store.exists("percentage_of") else store.create
    cases = [c.model_dump() for c in tests]
    save(
        "percentage_of",
        source,
        render_tests("percentage_of", tests),
        SPEC,
        cases=cases,
        verdict=verdict,
        **fields,
    )


def test_a_published_tool_arrives_unapproved_verified_and_answers_once_approved(
    tmp_path: Path, hub: Path, sandbox: Sandbox, isolated_env: Path, model: ScriptedModel
) -> None:
    a = home(tmp_path, "a", hub, sandbox)
    make(a.store, sandbox, MINE)
    assert a.push("team") == ["published percentage_of to team"]
    b = home(isolated_env, "", hub, sandbox)  # B is the home the services below open
    [note] = b.pull("team")
    assert note == "percentage_of v1 from team: verified here, waits for your approval"
    record = b.store.record("percentage_of")
    assert record.origin == "team" and not record.approved and record.verified
    assert b.status("team") == {"percentage_of": State.SAME}
    listed = run_cli(isolated_env, "tools", "list")
    assert "[from team, not approved to run]" in listed.stdout
    assert run_cli(isolated_env, "tools", "approve", "percentage_of").returncode == 0
    assert b.store.record("percentage_of").approved

    outcome = answer(model, "What is 25% of 80?", percent=25, value=80)
    assert outcome.kind == "answer" and outcome.tool == "percentage_of" and outcome.value == 20.0


def answer(model: ScriptedModel, request: str, *, percent: float, value: float) -> Any:
    """The request handled by the home SELFENG_HOME names, new tools waiting for a person's yes."""
    model.on("ground", program(f"answer = {value} * {percent} / 100"))
    model.on("args", {"missing": [], "percent": percent, "value": value})

    async def ask() -> Any:
        services, _ = await services_for(model, import_starters=False, approve_new_tools="ask")
        try:
            return await services.orchestrator.handle(request)
        finally:
            await services.aclose()

    return asyncio.run(ask())


def run_cli(home_dir: Path, *words: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SELFENG_HOME": str(home_dir)}
    return subprocess.run([EXE, *words], capture_output=True, text=True, env=env, timeout=300, check=False)


def test_a_correction_travels_back(tmp_path: Path, hub: Path, sandbox: Sandbox) -> None:
    a, b = home(tmp_path, "a", hub, sandbox), home(tmp_path, "b", hub, sandbox)
    make(a.store, sandbox, MINE)
    a.push("team")
    b.pull("team")
    make(b.store, sandbox, THEIRS, why="corrected by the user")
    assert b.status("team") == {"percentage_of": State.AHEAD}
    assert b.push("team") == ["published percentage_of to team"]
    assert a.status("team") == {"percentage_of": State.BEHIND}
    [note] = a.pull("team")
    assert note.startswith("percentage_of v2 from team: verified here")
    assert a.store.load("percentage_of").tool_source == THEIRS
    assert a.status("team") == {"percentage_of": State.SAME}
    assert (
        next(e.message for e in a.store.journal.log("percentage_of")) == "percentage_of v2: pulled from team"
    )


def test_the_same_name_made_in_two_homes_keeps_both(tmp_path: Path, hub: Path, sandbox: Sandbox) -> None:
    a, b = home(tmp_path, "a", hub, sandbox), home(tmp_path, "b", hub, sandbox)
    make(a.store, sandbox, MINE)
    make(b.store, sandbox, THEIRS)
    a.push("team")
    notes = b.push("team")  # B is behind on a changed tool: it pulls first, then publishes
    assert notes[0] == "percentage_of: changed on both sides; theirs kept as v2, yours stays current"
    assert notes[-1] == "published percentage_of to team"
    a.pull("team")
    for side in (a, b):
        sources = {
            side.store.load_version("percentage_of", r.version).tool_source
            for r in side.store.history("percentage_of")
        }
        assert sources == {MINE, THEIRS}
        assert side.status("team") == {"percentage_of": State.SAME}


def push_by_hand(tmp_path: Path, hub: Path, path: str, data: bytes) -> None:
    """Someone with push rights writes ``path`` in the published tree with plain git."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(hub), str(clone)], check=True)
    (clone / path).write_bytes(data)
    ident = ["-c", "user.name=x", "-c", "user.email=x@localhost"]
    subprocess.run(["git", *ident, "-C", str(clone), "add", "-A"], check=True)
    subprocess.run(["git", *ident, "-C", str(clone), "commit", "-qm", f"changed {path}"], check=True)
    subprocess.run(["git", "-C", str(clone), "push", "-q", "origin", "main"], check=True)


def tamper(tmp_path: Path, hub: Path, source: str) -> None:
    """The published code changed, its tests left as they were."""
    push_by_hand(tmp_path, hub, "percentage_of/tool.py", source.encode())


def test_a_tampered_tool_fails_on_pull_and_is_never_offered(
    tmp_path: Path, hub: Path, sandbox: Sandbox
) -> None:
    a, b = home(tmp_path, "a", hub, sandbox), home(tmp_path, "b", hub, sandbox)
    make(a.store, sandbox, MINE)
    a.push("team")
    tamper(tmp_path, hub, WRONG)
    [note] = b.pull("team")
    assert "FAILED verification here, never offered" in note
    assert not b.store.record("percentage_of").verified  # the library offers only verified tools
    # a home that had the good version keeps it current; the tampered one stays in its history
    [note] = a.pull("team")
    assert note == "percentage_of: team's version failed here; theirs kept as v2, yours stays current"
    current = a.store.load("percentage_of")
    assert current.tool_source == MINE and current.record.verified and current.record.version == 3
    assert a.store.load_version("percentage_of", 2).tool_source == WRONG


def test_two_homes_pushing_at_once_lose_nothing(tmp_path: Path, hub: Path, sandbox: Sandbox) -> None:
    homes = [home(tmp_path, who, hub, sandbox) for who in ("a", "b")]
    for remotes, name in zip(homes, ("first", "second"), strict=True):
        source = MINE.replace("percentage_of", f"percentage_of_{name}")
        verdict = sandbox.verify_sync(source, f"percentage_of_{name}", CASES).to_record()
        spec = {**SPEC, "function_name": f"percentage_of_{name}"}
        remotes.store.create(
            f"percentage_of_{name}", source, "", spec, cases=[c.model_dump() for c in CASES], verdict=verdict
        )
    env = {**os.environ}
    pushes = [
        subprocess.Popen(
            [
                EXE,
                "--home",
                str(tmp_path / who),
                "library",
                "push",
                "team",
                "--json",
                "--set",
                "import_starters=false",
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for who in ("a", "b")
    ]
    results = [p.communicate(timeout=300) for p in pushes]
    assert [p.returncode for p in pushes] == [0, 0], [err for _, err in results]
    listed = subprocess.run(
        ["git", "-C", str(hub), "ls-tree", "--name-only", "main"], capture_output=True, text=True, check=True
    )
    assert listed.stdout.split() == ["percentage_of_first", "percentage_of_second"]
    assert all(json.loads(out)["push"] for out, _ in results)


def test_every_change_is_a_commit_that_says_why(tmp_path: Path, sandbox: Sandbox) -> None:
    store = ToolStore(tmp_path / "tools")
    make(store, sandbox, MINE, why="synthesised for 'what is 25% of 80'", approved=False)
    make(store, sandbox, THEIRS, why="corrected by the user", approved=False)
    store.update("percentage_of", approved=True)
    store.count("percentage_of", usage_count=1)  # a use is not a change of the tool
    store.remove("percentage_of")
    assert [e.message for e in store.journal.log()] == [
        "percentage_of: removed",
        "percentage_of v2: approved to run",
        "percentage_of v2: corrected by the user",
        "percentage_of v1: synthesised for 'what is 25% of 80'",
    ]


def test_a_folder_too_big_to_be_a_tool_is_refused_on_pull(
    tmp_path: Path, hub: Path, sandbox: Sandbox
) -> None:
    a, b = home(tmp_path, "a", hub, sandbox), home(tmp_path, "b", hub, sandbox)
    make(a.store, sandbox, MINE)
    a.push("team")
    push_by_hand(tmp_path, hub, "percentage_of/data.bin", os.urandom(5 << 20))
    notes = b.pull("team")
    assert len(notes) == 1 and notes[0].startswith("percentage_of: refused,")
    assert not b.store.exists("percentage_of")


def test_pulling_twice_and_registering_at_once_on_one_home_lose_nothing(
    tmp_path: Path, hub: Path, sandbox: Sandbox
) -> None:
    a = home(tmp_path, "a", hub, sandbox)
    make(a.store, sandbox, MINE)
    a.push("team")
    b = home(tmp_path, "b", hub, sandbox)
    folder = tmp_path / "shared" / "add_one"
    folder.mkdir(parents=True)
    (folder / "tool.py").write_text(
        'def add_one(n: int) -> int:\n    """Return n + 1."""\n    return n + 1\n'
    )
    (folder / "test_tool.py").write_text(
        "from tool import add_one\n\n\ndef test_two():\n    assert add_one(2) == 3\n"
    )
    common = ["--home", str(tmp_path / "b"), "--set", "import_starters=false"]
    jobs = [
        [EXE, *common, "library", "pull", "team"],
        [EXE, *common, "library", "pull", "team"],
        [EXE, *common, "tools", "import", str(folder)],
    ]
    running = [
        subprocess.Popen(job, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for job in jobs
    ]
    results = [p.communicate(timeout=300) for p in running]
    assert [p.returncode for p in running] == [0, 0, 0], [err for _, err in results]
    assert b.store.names() == ["add_one", "percentage_of"]
    assert [r.version for r in b.store.history("percentage_of")] == [1]  # taken once, not twice
    messages = sorted(e.message for e in b.store.journal.log())
    assert messages == ["add_one v1: imported", "percentage_of v1: pulled from team"]
    assert b.store.journal.text("status", "--porcelain") == ""


REFUSES_BIG = (
    "def percentage_of(percent: float, value: float) -> float:\n"
    "    if percent >= 100:\n        raise ValueError('percent must be below 100')\n"
    "    return value * percent / 100\n"
)
FIXED = "def percentage_of(percent: float, value: float) -> float:\n    return value * percent / 100.0\n"


def test_a_fix_made_with_tools_fix_in_one_home_answers_in_the_other(
    tmp_path: Path,
    hub: Path,
    sandbox: Sandbox,
    model: ScriptedModel,
    monkeypatch: pytest.MonkeyPatch,
    isolated_env: Path,
) -> None:
    """A publishes a tool that refuses percentages of 100 or more; B pulls it, corrects it with
    `tools fix` (the repair is verified on B's sandbox) and pushes; A pulls and answers with B's
    version once A says yes to it."""
    a, b = home(tmp_path, "a", hub, sandbox), home(tmp_path, "b", hub, sandbox)
    make(a.store, sandbox, REFUSES_BIG, CASES[:1])  # its one case is below 100%
    assert a.push("team") == ["published percentage_of to team"]
    b.pull("team")
    model.code("implementation", FIXED)
    env = {**os.environ, "SELFENG_HOME": str(tmp_path / "b"), "SELFENG_LLM_BASE_URL": model.base_url}
    fixed = subprocess.run(
        [
            EXE,
            "tools",
            "fix",
            "percentage_of",
            "--args",
            '{"percent": 150, "value": 200}',
            "--expected",
            "300",
            "--set",
            "import_starters=false",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )
    assert fixed.returncode == 0, fixed.stderr[-500:]
    assert (
        b.store.load("percentage_of").record.verified
        and b.push("team")[-1] == "published percentage_of to team"
    )
    [note] = a.pull("team")
    assert note.startswith("percentage_of v2 from team: verified here")
    assert run_cli(tmp_path / "a", "tools", "approve", "percentage_of").returncode == 0

    monkeypatch.setenv("SELFENG_HOME", str(tmp_path / "a"))
    outcome = answer(model, "Could you work out 150 percent of 200?", percent=150, value=200)
    assert outcome.kind == "answer" and outcome.value == 300.0
