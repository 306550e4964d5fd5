"""Files a request names: a tool reads the one file named, read-only, in its sandbox. A file outside
the working directory needs a person's yes, a file over the size limit is refused, and the sandbox
sees that file alone, never the folder around it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from tests.sandbox_support import BACKENDS, make
from tests.scripted_model import ScriptedModel
from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import Event, SynthesisStep, ToolCalled
from tui_agent.core.flow.decision import Outcome
from tui_agent.core.flow.fit import file_mismatch
from tui_agent.core.flow.inputs import files_named
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.services import start_services
from tui_agent.core.synthesis.spec_checks import settle_spec
from tui_agent.core.tool.spec import ToolSpec

SALES = "region,amount\nnorth,120.5\nsouth,80\nwest,49.5\n"
SPEC = {
    "function_name": "column_total",
    "description": "The sum of the amount column of a CSV file.",
    "parameters": [{"name": "path", "type": "file", "description": "the CSV file"}],
    "return_type": "float",
    "examples": [{"args": {"path": {"file": "sales.csv", "content": "amount\n1\n2\n"}}, "result": 3.0}],
}
CASES = {
    "cases": [
        {"name": "two", "args": {"path": {"file": "a.csv", "content": "amount\n1\n2\n"}}, "expected": 3.0},
        {"name": "one", "args": {"path": {"file": "b.csv", "content": "x,amount\nq,5\n"}}, "expected": 5.0},
        {"name": "none", "args": {"path": {"file": "c.csv", "content": "amount\n"}}, "expected": 0.0},
        {
            "name": "halves",
            "args": {"path": {"file": "d.csv", "content": "amount\n0.5\n0.25\n"}},
            "expected": 0.75,
        },
    ]
}
CODE = '''import csv


def column_total(path: str) -> float:
    """The sum of the amount column of a CSV file."""
    with open(path, newline="") as handle:
        return float(sum(float(row["amount"]) for row in csv.DictReader(handle)))
'''
EXE = str(Path(sys.executable).parent / "selfeng-tui")


@pytest.fixture
async def model() -> AsyncIterator[ScriptedModel]:
    with ScriptedModel() as scripted:
        yield scripted


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    here = tmp_path / "project"
    here.mkdir()
    (here / "sales.csv").write_text(SALES)
    (here / "secret.txt").write_text("not for tools")
    monkeypatch.chdir(here)
    return here


def script(model: ScriptedModel, named: str) -> None:
    model.on("spec", SPEC).on("tests", CASES).code("implementation", CODE)
    model.on("args", {"missing": [], "path": named}).on("answer", "It is 250.")


async def answer(model: ScriptedModel, request: str) -> tuple[Outcome, list[Event]]:
    settings = load_settings(
        llm_base_url=model.base_url,
        llm_model="fake-model",
        sandbox_pool=1,
        approve_new_tools="auto",
        import_starters=False,
    )
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append, maxsize=100_000)
    services = await start_services(settings, bus)
    try:
        return await services.orchestrator.handle(request), seen
    finally:
        await services.aclose()


async def test_a_tool_reads_the_csv_the_request_names(model: ScriptedModel, workdir: Path) -> None:
    script(model, "sales.csv")
    outcome, seen = await answer(model, "What is the total of the amount column in sales.csv?")
    assert outcome.kind == "answer" and outcome.tool == "column_total", outcome.text
    assert outcome.value == 250.0 and outcome.verified
    called = [e.args for e in seen if isinstance(e, ToolCalled)]
    assert called == [{"path": "sales.csv"}]  # the person sees the name they used
    assert "args" not in model.asked  # the one file the request names is the one file it takes
    assert (workdir / "sales.csv").read_text() == SALES
    # the designer, the test writer and the coder were shown how the file begins; the tool keeps none of it
    spec_said = next(text for asked, text in model.prompts if asked == "spec")
    assert "The file sales.csv is all of this:\n```\nregion,amount\nnorth,120.5" in spec_said
    for step in ("tests", "implementation"):
        said = next(text for asked, text in model.prompts if asked == step)
        assert "#     region,amount\n#     north,120.5" in said, step
    stored = json.loads(
        (Path(os.environ["SELFENG_HOME"]) / "tools" / "column_total" / "tool.json").read_text()
    )
    assert "north" not in json.dumps(stored)


async def test_a_file_outside_the_working_directory_is_not_given_without_a_yes(
    model: ScriptedModel, workdir: Path
) -> None:
    script(model, "/etc/shadow")
    outcome, _ = await answer(model, "What is the total of the amount column in /etc/shadow?")
    assert outcome.kind == "failed" and outcome.value is None
    assert "/etc/shadow is outside the working directory" in outcome.text
    assert "--allow-path /etc/shadow" in outcome.text
    assert model.asked == []  # refused before any tool was made for it


async def test_a_file_over_the_size_limit_is_refused(model: ScriptedModel, workdir: Path) -> None:
    with (workdir / "big.csv").open("wb") as big:
        big.truncate(60 * 1024 * 1024)
    script(model, "big.csv")
    outcome, _ = await answer(model, "What is the total of the amount column in big.csv?")
    assert outcome.kind == "failed" and outcome.value is None
    assert "'big.csv' is 60 MB; a tool may be given 50 MB at most" in outcome.text
    assert model.asked == []


async def test_a_file_drafted_as_text_is_read_as_a_file(model: ScriptedModel, workdir: Path) -> None:
    """A small model drafts ``csv_path: str`` with the file's bare name as its example, and gives
    its test files as plain content: the parameter becomes a file, the contents become files,
    the example and a case that names a file it does not give are dropped, and the tool reads
    the named file."""
    as_text = {
        **SPEC,
        "parameters": [{"name": "csv_path", "type": "str", "description": "the CSV file"}],
        "examples": [{"args": {"csv_path": "sales.csv"}, "result": 250.0}],
    }
    # the test writer is shown the file as its text (csv_path_text) and may answer either way
    cases = [
        {**c, "args": {f"csv_path{'_text' * (i % 2)}": c["args"]["path"]["content"]}}
        for i, c in enumerate(CASES["cases"])
    ]
    cases.append({"name": "bare_name", "args": {"csv_path": "sales.csv"}, "expected": 250.0})
    model.on("spec", as_text).on("tests", {"cases": cases})
    model.code("implementation", CODE.replace("path", "csv_path"))
    model.on("args", {"missing": [], "csv_path": "sales.csv"}).on("answer", "It is 250.")
    outcome, seen = await answer(model, "What is the total of the amount column in sales.csv?")
    assert outcome.kind == "answer" and outcome.value == 250.0 and outcome.verified, outcome.text
    assert [e.args for e in seen if isinstance(e, ToolCalled)] == [{"csv_path": "sales.csv"}]
    tests_done = [
        e.detail for e in seen if isinstance(e, SynthesisStep) and e.step == "tests" and e.status == "done"
    ]
    assert tests_done == ["4 cases (dropped: 1 with a file name where the file's content belongs)"]


def test_a_file_is_a_file_only_when_it_exists(workdir: Path) -> None:
    drafted = ToolSpec.model_validate(
        {
            "function_name": "extension_of",
            "description": "The extension of a file name.",
            "parameters": [{"name": "filename", "type": "str"}],
            "return_type": "str",
            "examples": [{"args": {"filename": "sales.csv"}, "result": "csv"}],
        }
    )
    named = settle_spec(drafted, "What is the extension of sales.csv?")
    assert (
        named.parameters[0].type == "file" and named.signature() == "def extension_of(filename: str) -> str"
    )
    elsewhere = drafted.model_copy(update={"examples": []})
    assert settle_spec(elsewhere, "What is the extension of report.pdf?").parameters[0].type == "str"


def test_a_tool_that_reads_no_file_does_not_answer_about_one(workdir: Path) -> None:
    count_words = ToolSpec.model_validate(
        {
            "function_name": "count_words",
            "description": "How many words a text has.",
            "parameters": [{"name": "text", "type": "str"}],
            "return_type": "int",
        }
    )
    assert file_mismatch(count_words, "How many words are in sales.csv?") == (
        "the request is about the file sales.csv, and count_words reads no file"
    )
    assert file_mismatch(count_words, "How many words are in 'sales.csv'?") == ""
    assert file_mismatch(count_words, "How many words are in missing.txt?") == ""


def test_the_files_a_request_names_are_its_unquoted_existing_paths(workdir: Path) -> None:
    named = files_named("What is the total in sales.csv? And 10 / 2, and /etc/shadow.", 50, set())
    assert named.files == {"sales.csv": workdir / "sales.csv", "/etc/shadow": Path("/etc/shadow")}
    assert named.outside == [Path("/etc/shadow")] and named.refused == ""
    assert files_named("Reverse the string '/etc/shadow'", 50, set()).files == {}
    assert files_named("Reverse the string 'missing.csv' and ./nothing.txt", 50, set()).files == {}
    allowed = files_named("lines of /etc/shadow", 50, {Path("/etc/shadow")})
    assert allowed.outside == [] and allowed.files == {"/etc/shadow": Path("/etc/shadow")}


def test_ask_reads_an_allowed_file_elsewhere_and_refuses_it_otherwise(
    model: ScriptedModel, tmp_path: Path, workdir: Path
) -> None:
    elsewhere = tmp_path / "elsewhere" / "sales.csv"
    elsewhere.parent.mkdir()
    elsewhere.write_text(SALES)
    env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake-model"}
    env |= {"SELFENG_IMPORT_STARTERS": "false", "SELFENG_APPROVE_NEW_TOOLS": "auto"}
    request = f"What is the total of the amount column in {elsewhere}?"

    script(model, str(elsewhere))
    refused = subprocess.run([EXE, "ask", request], capture_output=True, text=True, timeout=300, env=env)
    assert refused.returncode == 1
    assert f"--allow-path {elsewhere}" in refused.stderr.strip().splitlines()[-1]

    model.on("args", {"missing": [], "path": str(elsewhere)}).on("answer", "It is 250.")
    allowed = subprocess.run(
        [EXE, "ask", "--json", "--allow-path", str(elsewhere), request],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert allowed.returncode == 0, allowed.stderr
    last = json.loads(allowed.stdout.splitlines()[-1])
    assert last["type"] == "answer" and last["value"] == 250.0


LOOK_AROUND = '''import os


def look(path: str) -> dict:
    """What a tool given one file can see and do."""
    seen = sorted(os.path.join(top, name) for top, _, names in os.walk("/work") for name in names)
    try:
        open(path, "a").write("changed")
        wrote = True
    except OSError:
        wrote = False
    try:
        neighbour = open(os.path.join(os.environ["HOST_DIR"], "secret.txt")).read()
    except OSError:
        neighbour = ""
    return {"seen": seen, "text": open(path).read(), "wrote": wrote, "neighbour": neighbour}
'''


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    box = make(request.param, tmp_path / "work")
    yield box
    box.close()


def test_the_sandbox_sees_the_named_file_alone_and_cannot_change_it(sandbox: Sandbox, workdir: Path) -> None:
    source = LOOK_AROUND.replace('os.environ["HOST_DIR"]', repr(str(workdir)))
    result = sandbox.call_sync(
        source, "look", {"path": "sales.csv"}, gate=False, files={"path": workdir / "sales.csv"}
    )
    assert result.ok, result.error
    seen = result.value
    assert seen["text"] == SALES
    assert [p for p in seen["seen"] if p.endswith(".csv")] == ["/work/inputs/c0/path/sales.csv"]
    assert not any("secret" in p for p in seen["seen"]) and seen["neighbour"] == ""
    assert seen["wrote"] is False
    assert (workdir / "sales.csv").read_text() == SALES


async def test_a_tool_that_finds_nothing_in_the_file_gives_no_answer(
    model: ScriptedModel, workdir: Path
) -> None:
    """A lookup that passes its own flat cases and returns None on the real, nested file has not
    answered: None is no verified value for a tool that declares -> int."""
    (workdir / "config.json").write_text('{"database": {"port": 5432}}')
    spec = {
        "function_name": "field_value",
        "description": "The value of a field of a JSON file.",
        "parameters": [
            {"name": "path", "type": "file", "description": "the JSON file"},
            {"name": "field", "type": "str", "description": "the field"},
        ],
        "return_type": "int",
        "examples": [],
    }
    cases = [
        {
            "name": f"f{n}",
            "args": {"path": {"file": "c.json", "content": f'{{"k{n}": {n}}}'}, "field": f"k{n}"},
            "expected": n,
        }
        for n in range(1, 5)
    ]
    code = "import json\n\n\ndef field_value(path: str, field: str) -> int:\n    with open(path) as f:\n        return json.load(f).get(field)\n"
    model.on("spec", spec).on("tests", {"cases": cases}).code("implementation", code)
    model.on("args", fit_args := {"missing": [], "path": "config.json", "field": "database.port"})
    outcome, seen = await answer(model, "In config.json, what is the value of the field database.port?")
    assert outcome.kind == "failed" and outcome.value is None and not outcome.verified, outcome.text
    assert "returned nothing (None)" in outcome.text and "-> int" in outcome.text
    assert [e.args for e in seen if isinstance(e, ToolCalled)] == [
        {k: fit_args[k] for k in ("path", "field")}
    ]
