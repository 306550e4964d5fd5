"""Test-driven synthesis against the stand-in model and the real sandbox: the loop."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel
from tests.synthesis_support import (
    CASES,
    GOOD,
    GOOD_APART,
    PARTLY_RIGHT_APART,
    SPEC,
    WRONG,
    collect,
    engine,
    steps,
)
from tui_agent.core.bus import EventBus
from tui_agent.core.events import SandboxOutput
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.spec_checks import declared_signature


async def test_right_first_time_registers_a_verified_tool(sandbox: Sandbox, embedder: Embedder) -> None:
    bus = EventBus()
    seen = collect(bus)
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
        eng, registry = engine(model, sandbox, embedder, bus)
        result = await eng.synthesize("What is 15% of 300?", request_id="r1")
    await bus.drain()
    assert result.ok, result.reason
    assert result.record is not None and result.record.verified and result.record.version == 1
    tool = registry.get("percentage_of")
    assert "from tool import percentage_of" in tool.test_source
    assert "def test_example_1" in tool.test_source  # the worked example anchors the tests
    assert steps(seen) == [
        ("spec", "started", 1),
        ("spec", "done", 1),
        ("tests", "started", 1),
        ("tests", "done", 1),
        ("gates", "started", 1),
        ("gates", "done", 1),
        ("implementation", "started", 1),
        ("implementation", "done", 1),
        ("verify", "started", 1),
        ("verify", "done", 1),
        ("register", "started", 1),
        ("register", "done", 1),
    ]


async def test_too_few_tests_are_written_again(sandbox: Sandbox, embedder: Embedder) -> None:
    bus = EventBus()
    seen = collect(bus)
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", {"cases": CASES["cases"][:1]}, CASES).code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder, bus)
        result = await eng.synthesize("What is 15% of 300?")
    await bus.drain()
    assert result.ok
    assert ("gates", "failed", 1) in steps(seen) and ("gates", "done", 2) in steps(seen)
    assert "at least 4 are needed" in next(e.detail for e in seen if e.status == "failed")


async def test_a_failing_implementation_is_repaired(sandbox: Sandbox, embedder: Embedder) -> None:
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", WRONG)
        model.code("independent", PARTLY_RIGHT_APART)  # it disagrees with WRONG, so the tests stand
        model.code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert result.ok and result.attempts == 2
    assert result.test_fixes == []
    assert asked.count("implementation") == 2 and asked.count("independent") == 1
    assert result.tool_source == GOOD


async def test_a_second_opinion_that_passes_every_case_is_the_tool(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    """Written from the spec alone, an opinion that passes every case is as much evidence as a
    repair would be: it becomes the tool, and no repair is drawn."""
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", WRONG)
        model.code("independent", GOOD_APART)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert result.ok and result.attempts == 1
    # the opinion's body under the spec's own header
    assert result.tool_source.split("\n", 1)[1] == GOOD_APART.split("\n", 1)[1] and result.test_fixes == []
    assert result.tool_source.startswith("def percentage_of(value: float, percent: float) -> float:")
    assert result.verdict is not None and result.verdict.passed
    assert asked.count("implementation") == 1


async def test_exhausted_repairs_fail_clearly_and_register_nothing(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES)
        # each attempt different (an identical one would be drawn again), and a fresh independent
        # implementation after each, which disagrees again
        for divisor in (10, 20, 30):
            model.code("implementation", WRONG.replace("/ 10", f"/ {divisor}"))
            model.code("independent", WRONG.replace("/ 10", f"/ {divisor * 100}"))
        eng, registry = engine(model, sandbox, embedder, repair_attempts=2)
        result = await eng.synthesize("What is 15% of 300?")
    assert not result.ok and result.attempts == 3
    assert result.test_fixes == []  # two implementations that disagree never rewrite a test
    assert "no implementation passed its tests after 3 attempts" in result.reason
    assert registry.list() == []


async def test_a_wrong_test_is_fixed_only_when_an_independent_implementation_agrees(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    wrong_case = {
        "cases": [
            *CASES["cases"][:3],
            {"name": "quarter", "args": {"value": -40, "percent": 25}, "expected": -100.0},
        ]
    }
    bus = EventBus()
    said: list[str] = []
    bus.subscribe(lambda e: said.append(e.line) if isinstance(e, SandboxOutput) else None)
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", wrong_case).code("implementation", GOOD)
        model.code("independent", GOOD_APART)  # the independent one, from the spec alone
        eng, _ = engine(model, sandbox, embedder, bus)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    await bus.drain()
    assert result.ok, (result.reason, result.verdict.detail if result.verdict else "", result.test_source)
    assert result.test_fixes == ["quarter"]
    assert (
        "second opinions (1 that pass the request's own cases) on 1 failing cases: 1 tests corrected, "
        "0 confirmed, 0 disputed" in said
    )
    assert result.attempts == 1 and asked.count("implementation") == 1  # the same code, re-verified
    assert "percentage_of(value=-40, percent=25) == pytest.approx(-10.0" in result.test_source
    assert result.test_source.count("def test_") == 5  # nothing deleted


async def test_a_wrong_second_opinion_has_no_vote(sandbox: Sandbox, embedder: Embedder) -> None:
    """A sampled independent implementation can be wrong too: one that fails the spec's own
    worked example (450 for 15% of 300) agrees with the wrong test and still confirms nothing; a
    second opinion is drawn, and that one's agreement corrects the wrong test."""
    wrong_case = {
        "cases": [
            *CASES["cases"][:3],
            {"name": "quarter", "args": {"value": -40, "percent": 25}, "expected": -100.0},
        ]
    }
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", wrong_case)
        model.code("implementation", GOOD).code("independent", WRONG)  # a wrong opinion, -100 like the test
        model.code("independent", GOOD_APART)  # a right opinion
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert result.ok and result.attempts == 1
    assert result.test_fixes == ["quarter"]
    assert asked.count("implementation") == 1 and asked.count("independent") == 2


async def test_a_malformed_spec_ends_in_a_clear_failure(sandbox: Sandbox, embedder: Embedder) -> None:
    with ScriptedModel() as model:
        model.on("spec", "not a function at all", '{"function_name": 3}', "```python\ndef (:\n```")
        eng, registry = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert not result.ok
    assert result.reason == (
        "no usable spec after 3 tries: the reply held no function signature with a docstring in a "
        "python code block"
    )
    assert asked.count("spec") == 3 and "tests" not in asked
    assert registry.list() == []


async def test_a_spec_written_as_a_stub_and_tests_as_asserts(sandbox: Sandbox, embedder: Embedder) -> None:
    """What a code model writes best: the spec as a signature with a docstring and doctests, the
    tests as assert lines; a line that is no plain check costs only itself."""
    stub = (
        "```python\ndef percentage_of(value: float, percent: float) -> float:\n"
        '    """The given percent of a value.\n\n    Args:\n        value: the whole amount\n'
        "        percent: the percentage, 15 for 15%\n\n    >>> percentage_of(300, 15)\n    45.0\n"
        '    """\n```'
    )
    asserts = (
        "```python\nassert percentage_of(value=200, percent=10) == 20.0\n"
        "assert percentage_of(value=0, percent=50) == 0\n"
        "assert percentage_of(value=80, percent=25) == 20.0\n"
        "assert percentage_of(value=50, percent=\n"  # a slip: dropped, the rest kept
        "assert percentage_of(value=10, percent=100) == 10.0\n```"
    )
    with ScriptedModel() as model:
        model.on("spec", stub).on("tests", asserts).code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
    assert result.ok, result.reason
    assert result.spec is not None and result.spec.signature() == (
        "def percentage_of(value: float, percent: float) -> float"
    )
    assert [p.description for p in result.spec.parameters] == [
        "the whole amount",
        "the percentage, 15 for 15%",
    ]
    example = result.cases[0]
    assert example.args == {"value": 300, "percent": 15} and example.example and not example.anchor
    assert (
        len(result.cases) == 5
        and "percentage_of(value=10, percent=100) == pytest.approx(10.0" in result.test_source
    )


def test_a_file_written_as_a_triple_quoted_string_is_one_case() -> None:
    """A small model writes a case's file text over several lines, and its reply may be cut
    off by the token limit: each complete case is read, the cut one alone is lost."""
    from tui_agent.core.tool.cases import with_inline_files
    from tui_agent.core.tool.read_tests import read_case_lines

    reply = (
        'assert mean_price(path_text="""\nitem,price\npen,2.00\nink,4.00\n""") == 3.0\n'
        "with pytest.raises(ValueError):\n"
        '    mean_price(path_text="""\n    item,price\n    """)\n'
        'assert mean_price(path_text="item,price\\nnib,1.5") == 1.5\n'
        'assert mean_price(path_text="""\nitem,price\npen,2'
    )
    cases, unread = read_case_lines(reply, "mean_price", ["path_text"])
    assert [(c.expected, c.raises) for c in cases] == [(3.0, None), (None, "ValueError"), (1.5, None)]
    assert unread == 1
    files = [with_inline_files({"path": c.args["path_text"]}, {"path"}) for c in cases]
    assert [f["path"]["content"] for f in files if f] == [
        "item,price\npen,2.00\nink,4.00\n",
        "item,price\n",
        "item,price\nnib,1.5",
    ]


def test_an_expected_number_written_as_arithmetic_is_worked_out_on_the_host() -> None:
    """A test that writes the sum has it done by Python, not by its writer; anything but
    arithmetic on numbers is not run but unread."""
    from tui_agent.core.tool.read_tests import read_case_lines

    reply = "\n".join(
        [
            'assert mean_price(path_text="item,price\\npen,4.50\\nink,1.20") == (4.50 + 1.20) / 2',
            'assert mean_price(path_text="a") == round(10 / 3, 2)',
            'assert mean_price(path_text="b") == sum([1, 2, 3]) / len([1, 2, 3])',
            'assert mean_price(path_text="c") == pytest.approx(-1 / 4)',
            'assert mean_price(path_text="d") == 9 ** 9 ** 9',
            'assert mean_price(path_text="e") == __import__("os").getpid()',
            'assert mean_price(path_text="f") == 1 / 0',
            'assert mean_price(path_text="g") == "4" + "2"',
        ]
    )
    cases, unread = read_case_lines(reply, "mean_price", ["path_text"])
    assert [c.expected for c in cases] == [2.85, 3.33, 2.0, -0.25]
    assert unread == 4


def test_a_file_text_the_model_names_first_is_read_where_the_name_is_used() -> None:
    """The local model writes ``file_content = \"\"\"...\"\"\"`` and then asserts on the name;
    a name that was never given a literal still costs its line."""
    from tui_agent.core.tool.read_tests import read_case_lines

    reply = (
        'file_content = """\nitem,price\npen,4.50\nink,1.25\n"""\n'
        "assert mean_price(file_content) == (4.5 + 1.25) / 2\n"
        'file_content = "item,price\\nnib,2.0"\n'
        "assert mean_price(path_text=file_content) == 2.0\n"
        "assert mean_price(path_text=other) == 1.0\n"
    )
    cases, unread = read_case_lines(reply, "mean_price", ["path_text"])
    assert [(c.args["path_text"], c.expected) for c in cases] == [
        ("\nitem,price\npen,4.50\nink,1.25\n", 2.875),
        ("item,price\nnib,2.0", 2.0),
    ]
    assert unread == 1


def test_error_cases_the_spec_does_not_support_are_dropped() -> None:
    from tui_agent.core.synthesis.spec_checks import overspecified
    from tui_agent.core.tool.cases import TestCase
    from tui_agent.core.tool.spec import ToolSpec

    spec = ToolSpec.model_validate(
        {
            "function_name": "reverse_string",
            "description": "Reverse the characters of a string.",
            "parameters": [{"name": "value", "type": "str"}],
        }
    )
    assert overspecified(spec, TestCase(name="negative", args={"value": "-123"}, raises="ValueError"))
    assert not overspecified(spec, TestCase(name="not_text", args={"value": 5}, raises="TypeError"))
    strict = spec.model_copy(update={"description": "Reverse a string; raises ValueError for an empty one."})
    assert not overspecified(strict, TestCase(name="empty", args={"value": ""}, raises="ValueError"))


def test_a_declared_signature_is_kept_exactly() -> None:
    name, params, returns = declared_signature(
        "make celsius_to_kelvin(celsius: float, offset: float = 273.15) -> float"
    )
    assert name == "celsius_to_kelvin" and returns == "float"
    assert [(p.name, p.type, p.required, p.default) for p in params] == [
        ("celsius", "float", True, None),
        ("offset", "float", False, 273.15),
    ]
    assert declared_signature("reverse the string (the one I typed)") is None


async def test_no_case_passes_a_stub(sandbox: Sandbox, embedder: Embedder) -> None:
    """The gate judges a stub on the host as verification would; the real sandbox agrees that a
    function which does nothing passes none of the cases."""
    from tui_agent.core.synthesis.code import stub_source
    from tui_agent.core.tool.cases import TestCase
    from tui_agent.core.tool.spec import ToolSpec

    spec = ToolSpec.model_validate(SPEC)
    cases = [TestCase.model_validate(c) for c in CASES["cases"]]
    cases.append(TestCase(name="text", args={"value": "x", "percent": 2}, raises="TypeError"))
    from tui_agent.core.synthesis.testing import gate_problem

    assert gate_problem(cases) == ""
    assert "at least 4 are needed" in gate_problem(cases[:2])
    verdict = await sandbox.verify(stub_source(spec), spec.function_name, cases)
    assert not verdict.passed and verdict.counts.passed == 0 and verdict.counts.collected == 5
    assert {t.observed.error_type for t in verdict.tests if t.observed} == {"NotImplementedError"}


async def test_usable_cases_are_kept_when_more_are_asked_for(sandbox: Sandbox, embedder: Embedder) -> None:
    with ScriptedModel() as model:
        first, second = {"cases": CASES["cases"][:2]}, {"cases": CASES["cases"][2:]}
        model.on("spec", SPEC).on("tests", first, second).code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert result.ok and asked.count("tests") == 2
    for name in ("test_example_1", "test_half", "test_zero", "test_double", "test_negative"):
        assert f"def {name}()" in result.test_source
    # asked again, the test writer is shown the cases kept so far, to go on in their form
    again = [said for step, said in model.prompts if step == "tests"][1]
    assert "assert percentage_of(value=200, percent=50) == 100.0" in again
    assert "assert percentage_of(value=80, percent=0) == 0.0" in again


async def test_a_spec_that_needs_a_value_the_request_lacks_is_designed_again(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    """ "Convert 5 km to miles" once came back as f(kilometers, miles): the answer as a parameter."""
    bad = {
        "function_name": "convert_distance",
        "description": "Convert kilometres to miles.",
        "parameters": [
            {"name": "kilometers", "type": "float", "description": "distance in km"},
            {"name": "miles", "type": "float", "description": "the converted distance"},
        ],
        "return_type": "str",
        "examples": [{"args": {"kilometers": 5, "miles": 3.10686}, "result": "3.10686 miles"}],
    }
    good = {
        "function_name": "km_to_miles",
        "description": "Convert kilometres to miles.",
        "parameters": [{"name": "kilometers", "type": "float", "description": "distance in km"}],
        "return_type": "float",
        "examples": [{"args": {"kilometers": 5}, "result": 3.106855}],
    }
    cases = {
        "cases": [
            {"name": "zero", "args": {"kilometers": 0}, "expected": 0.0},
            {"name": "ten", "args": {"kilometers": 10}, "expected": 6.21371},
            {"name": "one", "args": {"kilometers": 1}, "expected": 0.621371},
            {"name": "hundred", "args": {"kilometers": 100}, "expected": 62.1371},
        ]
    }
    code = "def km_to_miles(kilometers: float) -> float:\n    return kilometers * 0.621371\n"
    bus = EventBus()
    seen = collect(bus)
    with ScriptedModel() as model:
        model.on("spec", bad, good).on("tests", cases).code("implementation", code)
        eng, _ = engine(model, sandbox, embedder, bus)
        result = await eng.synthesize("Convert 5 kilometers to miles")
    await bus.drain()
    assert result.ok and result.spec is not None and result.spec.function_name == "km_to_miles"
    failed = [e for e in seen if e.step == "spec" and e.status == "failed"]
    assert len(failed) == 1 and "only values from the request" in failed[0].detail


def test_a_spec_must_be_callable_with_the_requests_own_values() -> None:
    from tui_agent.core.synthesis.spec_checks import spec_problem
    from tui_agent.core.tool.spec import ToolSpec

    def spec(params: list[str], example: dict[str, float]) -> ToolSpec:
        return ToolSpec.model_validate(
            {
                "function_name": "f",
                "parameters": [{"name": p, "type": "float"} for p in params],
                "examples": [{"args": example, "result": 1.0}],
            }
        )

    request = "What is the percentage change from 80 to 100?"
    assert spec_problem(spec(["old", "new"], {"old": 80, "new": 100}), request) == ""
    wrong_design = spec(["value", "percent"], {"value": 80, "percent": 20})
    problem = spec_problem(wrong_design, request)
    assert "the request gives the values 80, 100" in problem and "exactly these values" in problem
    answer_as_input = spec(["kilometers", "miles"], {"kilometers": 5, "miles": 3.1})
    assert "values 5:" in spec_problem(answer_as_input, "Convert 5 kilometers to miles")
    assert spec_problem(wrong_design, "percentage change between two numbers") == ""  # a description
    assert "'hello'" in spec_problem(spec(["x"], {"x": 1}), "Reverse the string 'hello'")


def test_implementations_agree_as_the_tests_compare() -> None:
    from tui_agent.core.synthesis.agreement import same_behaviour
    from tui_agent.core.tool.cases import Outcome

    def value(v: object) -> Outcome:
        return Outcome("value", v)

    def raises(name: str) -> Outcome:
        return Outcome("raises", raises=(name, "Exception"))

    assert same_behaviour(value(3.106855), value(3.10685596))  # 0.621371 vs 0.62137119 per km
    assert not same_behaviour(value(3.1), value(3.10685596))
    assert not same_behaviour(value(1), value(True))
    assert same_behaviour(raises("ValueError"), raises("ValueError"))
    assert not same_behaviour(raises("ValueError"), value(None))
    assert same_behaviour(value([1.0, 2.0000001]), value([1, 2]))


async def test_a_spec_that_returns_int_with_fractional_examples_returns_float(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    area = {
        "function_name": "circle_area",
        "description": "Area of a circle.",
        "parameters": [{"name": "radius", "type": "float"}],
        "return_type": "int",
        "examples": [{"args": {"radius": 3}, "result": 28.274333882308138}],
    }
    with ScriptedModel() as model:
        model.on("spec", area)
        eng, _ = engine(model, sandbox, embedder)
        spec = await eng.make_spec("What is the area of a circle with radius 3?", "r1")
    assert spec.return_type == "float"


async def test_a_forgotten_standard_import_is_added_not_failed(sandbox: Sandbox, embedder: Embedder) -> None:
    """The local model writes ``math.fsum`` with no ``import math``: a slip, not a failed attempt."""
    forgetful = "def percentage_of(value: float, percent: float) -> float:\n    return math.fsum([value * percent / 100])\n"
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", forgetful)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
    assert result.ok and result.attempts == 1, result.reason
    assert result.tool_source.startswith("import math\n")


async def test_tests_the_model_appends_to_its_code_are_dropped(sandbox: Sandbox, embedder: Embedder) -> None:
    """A repair that ends with its own ``@pytest.mark.parametrize`` test would not even import
    (no pytest in tool.py): the tool is the function, the appended test is dropped."""
    appended = GOOD + (
        "\n\n@pytest.mark.parametrize('v, p, e', [(300, 15, 45.0)])\n"
        "def test_percentage_of(v, p, e):\n    assert percentage_of(v, p) == e\n\n"
        "if __name__ == '__main__':\n    print(percentage_of(300, 15))\n"
        "\nassert percentage_of(300, 15) == 4.5\nprint(percentage_of(10, 10))\n"  # would stop the import
    )
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", appended)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
    assert result.ok and result.attempts == 1, result.reason
    assert result.tool_source == GOOD


def test_the_tool_file_has_the_specs_signature_and_docstring_whatever_the_model_writes() -> None:
    from tui_agent.core.synthesis.code import extract_code, with_spec_header
    from tui_agent.core.tool.spec import ToolSpec

    spec = ToolSpec.model_validate(
        {**SPEC, "docstring": "Compute percent % of value.\n\nArgs:\n    value: the whole"}
    )
    reply = (
        "Here you go:\n```python\nimport math\n\ndef percentage_of(value, percent):\n"
        '    """my own words"""\n    return value * percent / 100\n```\nThis function multiplies the'
    )
    code = with_spec_header(extract_code(reply.split("\n```\n")[0]), spec)  # cut at the stop sequence
    assert f"{spec.signature()}:" in code and "my own words" not in code
    assert spec.docstring.strip().splitlines()[0] in code and "return value * percent / 100" in code
    namespace: dict = {}
    exec(compile(code, "tool.py", "exec"), namespace)
    assert namespace["percentage_of"](value=300, percent=15) == 45


async def test_code_and_tests_are_asked_for_with_a_stop_at_the_closing_fence(sandbox, embedder) -> None:
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        stops = {step: body.get("stop") for step, body in model.bodies}
    assert result.ok
    assert stops["implementation"] == ["\n```\n"] and stops["tests"] == ["\n```\n"]
