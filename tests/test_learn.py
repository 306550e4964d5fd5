"""Tools that get better with use: a correction becomes a test and a new version, a failure on a
real input is repaired when two independent implementations agree, versions can be reverted, and
every tool keeps its record across processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.scripted_model import ScriptedModel
from tests.test_orchestrator import services_for
from tui_agent.core.library.sharing import tool_cases

EXE = str(Path(sys.executable).parent / "selfeng-tui")
# percentage_of as a small model might have written it: it refuses a percent of 100 or more
REFUSES_BIG = (
    "def percentage_of(value: float, percent: float) -> float:\n"
    "    if percent >= 100:\n        raise ValueError('percent must be below 100')\n"
    "    return value * percent / 100\n"
)
FIXED = "def percentage_of(value: float, percent: float) -> float:\n    return value * percent / 100.0\n"


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModel]:
    with ScriptedModel() as scripted:
        yield scripted


async def with_broken_percentage(model: ScriptedModel):  # type: ignore[no-untyped-def]
    """The starter library, with percentage_of replaced by a version that refuses 150%."""
    services, seen = await services_for(model)
    registry = services.registry
    tool = registry.get("percentage_of")
    cases = tool_cases(tool)
    cases = [c for c in cases if not (c.args.get("percent", 0) >= 100)]
    verdict = await services.sandbox.verify(REFUSES_BIG, "percentage_of", cases)
    assert verdict.passed
    registry.add(
        "percentage_of",
        REFUSES_BIG,
        tool.test_source,
        tool.record.spec,
        cases=cases,
        verdict=verdict.to_record(),
        new_version=True,
        why="test",
        approved=True,
    )
    return services, seen


async def test_a_correction_that_fails_the_tool_repairs_it_into_a_new_version(model: ScriptedModel) -> None:
    model.code("implementation", FIXED)
    services, _ = await with_broken_percentage(model)
    try:
        outcome = await services.engine.correct("percentage_of", {"value": 200, "percent": 150}, 300)
        store = services.registry.store
        record = store.record("percentage_of")
        again = await services.sandbox.verify(
            store.load("percentage_of").tool_source, "percentage_of", tool_cases(store.load("percentage_of"))
        )
    finally:
        await services.aclose()
    assert outcome.status == "repaired", outcome.message
    assert record.version == 3 and record.why == "corrected by the user" and not record.approved
    assert record.corrections == 1
    names = [c["name"] for c in record.cases]
    assert "corrected_1" in names and len(names) == len(record.cases)
    corrected = next(c for c in record.cases if c["name"] == "corrected_1")
    assert (
        corrected["args"] == {"value": 200, "percent": 150}
        and corrected["expected"] == 300
        and corrected["anchor"]
    )
    assert again.passed and again.counts.collected == len(record.cases)  # old and new cases, all pass


async def test_a_correction_the_tool_already_passes_changes_nothing(model: ScriptedModel) -> None:
    services, _ = await services_for(model)
    try:
        outcome = await services.engine.correct("percentage_of", {"value": 300, "percent": 15}, 45)
        record = services.registry.store.record("percentage_of")
    finally:
        await services.aclose()
    assert outcome.status == "unchanged" and "already gives 45" in outcome.message
    assert record.version == 1 and record.corrections == 0
    assert model.asked == []


async def test_a_failure_is_repaired_when_two_independent_implementations_agree(model: ScriptedModel) -> None:
    model.code("independent", FIXED).code(
        "independent", "def percentage_of(value, percent):\n    return percent * value / 100\n"
    )
    model.code("implementation", FIXED.replace("100.0", "100"))
    services, _ = await with_broken_percentage(model)
    try:
        outcome = await services.engine.repair_failure("percentage_of", {"value": 200, "percent": 150})
        record = services.registry.store.record("percentage_of")
    finally:
        await services.aclose()
    assert outcome.status == "repaired", outcome.message
    assert outcome.case is not None and outcome.case.expected == 300
    assert record.version == 3 and record.why == "repaired after failure" and not record.approved


async def test_a_failure_is_left_alone_when_the_two_implementations_disagree(model: ScriptedModel) -> None:
    model.code("independent", FIXED).code(
        "independent", "def percentage_of(value, percent):\n    return value / percent\n"
    )
    services, _ = await with_broken_percentage(model)
    try:
        outcome = await services.engine.repair_failure("percentage_of", {"value": 200, "percent": 150})
        record = services.registry.store.record("percentage_of")
    finally:
        await services.aclose()
    assert outcome.status == "disagreed"
    assert "disagree" in outcome.message and "tools fix" in outcome.message
    assert record.version == 2  # nothing changed
    assert "implementation" not in model.asked


async def test_ask_repair_repairs_a_failing_reused_tool_and_answers(model: ScriptedModel) -> None:
    model.code("independent", FIXED).code(
        "independent", "def percentage_of(value, percent):\n    return percent * value / 100\n"
    )
    model.code("implementation", FIXED.replace("100.0", "100"))
    services, _ = await with_broken_percentage(model)
    services.orchestrator.repair_failures = True
    services.orchestrator.consent.yes = True
    try:
        outcome = await services.orchestrator.handle("What is 150% of 200?")
        record = services.registry.store.record("percentage_of")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.value == 300, outcome.text
    assert record.version == 3 and record.failures == 1 and record.approved  # --yes approved it


async def test_without_repair_a_failure_is_reported_with_the_offer(model: ScriptedModel) -> None:
    services, seen = await with_broken_percentage(model)
    try:
        outcome = await services.orchestrator.handle("What is 150% of 200?")
    finally:
        await services.aclose()
    assert outcome.kind == "failed" and "--repair" in outcome.text
    offers = [e for e in seen if e.type == "repair_offered"]
    assert offers and offers[0].args == {"value": 200, "percent": 150}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], capture_output=True, text=True, timeout=300, env=os.environ.copy())


def test_revert_makes_an_older_version_current_as_a_new_version(isolated_env: Path) -> None:
    assert cli("tools", "list").returncode == 0
    from tui_agent.core.library.store import ToolStore

    store = ToolStore(isolated_env / "tools")
    first = store.load("reverse_string")
    store.add_version(
        "reverse_string",
        "def reverse_string(text):\n    return text\n",
        first.test_source,
        first.record.spec,
        cases=first.record.cases,
        verdict=None,
        why="a bad edit",
    )
    reverted = cli("tools", "revert", "reverse_string", "1", "--json")
    assert reverted.returncode == 0, reverted.stderr
    record = json.loads(reverted.stdout)
    assert record["version"] == 3 and record["why"] == "reverted to v1"
    assert store.load("reverse_string").tool_source == first.tool_source
    lines = cli("tools", "history", "reverse_string").stdout.splitlines()
    history, log = lines[:3], lines[4:]  # the versions, then the library's git log, newest first
    assert "a bad edit" in history[1] and "reverted to v1" in history[2]
    assert lines[3].startswith("changes") and "reverse_string v3: reverted to v1" in log[0]


COUNTER = """
import sys
from pathlib import Path
from tui_agent.core.library.store import ToolStore
store = ToolStore(Path(sys.argv[1]))
for _ in range(20):
    store.count("is_prime", usage_count=1, answers=1)
"""


def test_stats_are_counted_across_processes(isolated_env: Path) -> None:
    assert cli("tools", "list").returncode == 0
    tools = str(isolated_env / "tools")
    counters = [subprocess.Popen([sys.executable, "-c", COUNTER, tools]) for _ in range(3)]
    assert [c.wait(timeout=120) for c in counters] == [0, 0, 0]
    rows = {r["name"]: r for r in json.loads(cli("tools", "stats", "--json").stdout)}
    assert rows["is_prime"]["uses"] == 60 and rows["is_prime"]["answers"] == 60
    assert rows["is_prime"]["last_used"]
    assert "is_prime" in cli("tools", "stats").stdout


def test_tools_fix_on_the_command_line_repairs_and_says_so(model: ScriptedModel, isolated_env: Path) -> None:
    assert cli("tools", "list").returncode == 0
    from tui_agent.core.library.store import ToolStore

    store = ToolStore(isolated_env / "tools")
    first = store.load("percentage_of")
    kept = [c for c in first.record.cases if c["args"].get("percent", 0) < 100]
    store.add_version(
        "percentage_of",
        REFUSES_BIG,
        first.test_source,
        first.record.spec,
        cases=kept,
        verdict=None,
        why="test",
    )
    model.code("implementation", FIXED)
    env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake-model"}

    def fix(*args: str) -> subprocess.CompletedProcess[str]:
        command = [EXE, "tools", "fix", "percentage_of", *args]
        return subprocess.run(command, capture_output=True, text=True, timeout=300, env=env)

    already = fix("--args", '{"value": 300, "percent": 15}', "--expected", "45")
    assert already.returncode == 0 and "already gives 45" in already.stdout
    bad = fix("--args", "{value: 1}", "--expected", "1")
    assert bad.returncode != 0 and bad.stderr.strip().startswith("selfeng-tui: --args is not JSON")
    repaired = fix("--args", '{"value": 200, "percent": 150}', "--expected", "300", "--json")
    assert repaired.returncode == 0, repaired.stderr
    result = json.loads(repaired.stdout.splitlines()[-1])
    assert result["status"] == "repaired" and result["version"] == 3
    assert (
        store.load("percentage_of").tool_source.endswith(FIXED.split("\n", 1)[1])
        and not store.record("percentage_of").approved
    )
