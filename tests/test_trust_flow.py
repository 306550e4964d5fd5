"""Trust in the flow: a template never skips the fit check, bookkeeping never turns an answer into
a failure, and two processes on one home lose nothing. Stand-in model, real sandbox and library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from filelock import Timeout

from tests.scripted_model import ScriptedModel
from tests.test_orchestrator import services_for
from tui_agent.core.events import Notice, ToolCalled
from tui_agent.core.tool.spec import ToolSpec, call_model


async def test_a_unit_a_starter_does_not_know_is_no_match(model: ScriptedModel) -> None:
    """ "Convert {value} {from_unit} to {to_unit}" reads like "Convert 3 hours to minutes", and
    hours are no length: neither converter is chosen, nothing runs, and a tool is to be made."""
    model.on("ground", "```python\nanswer = 3 * 60\n```", "```python\nanswer = 2 * 1000\n```")
    model.on("args", {"missing": [], "value": 3, "from_unit": "hours", "to_unit": "minutes"})
    model.on("args", {"missing": [], "value": 3, "from_unit": "hours", "to_unit": "minutes"})
    services, seen = await services_for(model)
    try:
        for request in ("Convert 3 hours to minutes", "Convert 2 litres to millilitres"):
            decision = await services.orchestrator.decide(request)
            assert decision.decision == "synthesise" and decision.tool is None, decision.reason
    finally:
        await services.aclose()
    assert not [e for e in seen if isinstance(e, ToolCalled)]


async def test_a_unit_a_starter_knows_is_still_a_match(model: ScriptedModel) -> None:
    services, _ = await services_for(model)
    try:
        outcome = await services.orchestrator.handle("Convert 5 km to miles")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.tool == "convert_length"
    assert outcome.value == pytest.approx(3.1068559612) and model.asked == []


def test_choices_are_data_the_call_checks() -> None:
    spec = ToolSpec.model_validate(
        {
            "function_name": "convert_length",
            "parameters": [
                {"name": "value", "type": "float"},
                {"name": "unit", "type": "str", "choices": ["km", "mi", "miles"]},
            ],
        }
    )
    checked = call_model(spec)
    assert (
        checked.model_validate({"value": 1, "unit": "Miles."}).model_dump(by_alias=True)["unit"] == "Miles."
    )
    with pytest.raises(ValueError, match="not one of the values unit takes"):
        checked.model_validate({"value": 1, "unit": "hours"})


async def test_a_store_that_fails_while_recording_still_answers(
    model: ScriptedModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    services, seen = await services_for(model)

    def stuck(*_args: object, **_kwargs: object) -> None:
        raise Timeout(str(services.registry.store.lock.lock_file))

    for name in ("record_use", "record_answer", "learn_phrasing"):
        monkeypatch.setattr(services.registry, name, stuck)
    try:
        outcome = await services.orchestrator.handle("Reverse the string 'hello'")
    finally:
        await services.aclose()
    assert outcome.kind == "answer" and outcome.value == "olleh" and outcome.verified
    warnings = [e.message for e in seen if isinstance(e, Notice) and e.level == "warning"]
    assert len(warnings) == 3 and all("could not" in w and "Timeout" in w for w in warnings)


# --- two processes on one home, under load ----------------------------------------------------

WORKER = textwrap.dedent(
    """
    import json, sys
    from tui_agent.core.config import load_settings
    from tui_agent.core.library.registry import Registry
    from tui_agent.core.tool.cases import TestCase

    role, rounds = sys.argv[1], int(sys.argv[2])
    registry = Registry(load_settings())
    registry.open(import_starters=False)
    spec = {"function_name": "shout", "description": "Convert a text to upper case letters.",
            "parameters": [{"name": "text", "type": "str", "description": "the text"}], "return_type": "str"}
    cases = [TestCase(name="a", args={"text": "a"}, expected="A")]
    verdict = {"passed": True, "reason": None}
    seen = {"versions": [], "top": set(), "made": []}
    for i in range(rounds):
        if role == "writer":
            registry.add("shout", f"def shout(text):\\n    return text.upper()  # {i}\\n", "", spec,
                         cases=cases, verdict=verdict, new_version=True)
            name = f"tool_{role}_{i}"
            registry.add(name, f"def {name}(n):\\n    return n + {i}\\n", "",
                         {"function_name": name, "description": f"Add {i} to a number.",
                          "parameters": [{"name": "n", "type": "int"}], "return_type": "int"},
                         cases=[TestCase(name="z", args={"n": 0}, expected=i)], verdict=verdict)
            seen["made"].append(name)
        tool = registry.get("shout")
        assert f"# " in tool.tool_source or "upper" in tool.tool_source
        seen["versions"].append(tool.record.version)
        found = registry.search("make this text upper case")
        seen["top"].add(found.candidates[0].name)
    print(json.dumps({"versions": seen["versions"], "top": sorted(seen["top"]), "made": seen["made"]}))
    """
)


def test_two_processes_searching_answering_and_registering_lose_nothing(isolated_env: Path) -> None:
    """One re-registers shout and makes new tools while the other reads shout and searches: no
    read sees a half-swapped version, every search ranks shout first, and every version and tool
    is there at the end."""
    from tests.test_registry import SPEC, TOOL_V1
    from tui_agent.core.config import load_settings
    from tui_agent.core.library.registry import Registry
    from tui_agent.core.tool.cases import TestCase

    registry = Registry(load_settings())
    registry.open(import_starters=False)
    registry.add(
        "shout",
        TOOL_V1,
        "",
        SPEC,
        cases=[TestCase(name="a", args={"text": "a"}, expected="A")],
        verdict={"passed": True, "reason": None},
    )
    registry.close()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, role, "12"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for role in ("writer", "reader")
    ]
    results = [w.communicate(timeout=300) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err[-800:] for _out, err in results]
    writer, reader = (json.loads(out.strip().splitlines()[-1]) for out, _err in results)
    assert writer["top"] == ["shout"] and reader["top"] == ["shout"]
    assert reader["versions"] == sorted(reader["versions"])  # never an older version after a newer
    again = Registry(load_settings())
    again.open(import_starters=False)
    assert [r.version for r in again.history("shout")] == list(range(1, 14))
    assert set(writer["made"]) <= set(again.store.names())
    assert again.search("make this text upper case").candidates[0].name == "shout"
    again.close()
