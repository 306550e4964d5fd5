"""Requests that write the function out, and what the verdict rests on: the request's own
examples (in whatever form a docstring writes them) are anchors, the model's other cases are held
back from the code and judged by implementations written apart, and a case nobody sides with is
set aside, never quietly passed."""

from __future__ import annotations

from tests.scripted_model import ScriptedModel
from tests.synthesis_support import CASES, GOOD, SPEC, engine
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.llm import prompts
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.inverse import round_trips, undoes
from tui_agent.core.tool.described import described_function
from tui_agent.core.tool.infer import doctest_examples

DECODE = '''
def encode_pairs(s: str) -> str:
    """Swap every two characters."""
    return "".join(s[i + 1 : i + 2] + s[i] for i in range(0, len(s), 2))


def decode_pairs(s: str) -> str:
    """Takes a string encoded with encode_pairs and gives the original back.
    decode_pairs("ba") ==> "ab"
    decode_pairs("badc") ➞ "abcd"
    """
'''


def test_examples_written_on_one_line_are_read_as_the_requests_own() -> None:
    text = """
    >>> f(2)
    4
    f(3) == 9
    f(4) ==> 16
    f(5) ➞ 25.
    f(x=6) returns 36
    For f(7) the result is something else entirely
    f(n) = n * n, for any n
    """
    found = [(e.args, e.result, e.stated) for e in doctest_examples(text, "f", ["x"])]
    assert found == [
        ({"x": 2}, 4, True),
        ({"x": 3}, 9, True),
        ({"x": 4}, 16, True),
        ({"x": 5}, 25, True),
        ({"x": 6}, 36, True),
    ]


def test_examples_written_as_inputs_and_outputs_are_read_as_the_requests_own() -> None:
    """The forms puzzle sites (and HumanEval) use: parameters assigned, then the output in words."""
    text = """
    For lst = [1, 2, 3] the output should be 6.
    For lst = [] the output should be 0
    Example:
        Input: lst = [111, 21, 3], k = 2
        Output: 24 # sum of 21 + 3
    check([4]) => true
    check([5])   # returns "odd"
    check([6], 9) -> 9 - 6 = 3
    Here lst = the numbers to add up, and k = how many of them.
    """
    found = [(e.args, e.result) for e in doctest_examples(text, "check", ["lst", "k"])]
    assert found == [
        ({"lst": [4]}, True),
        ({"lst": [5]}, "odd"),
        ({"lst": [6], "k": 9}, 3),
        ({"lst": [111, 21, 3], "k": 2}, 24),
    ]
    alone = "Example 1:\n    Input: 3\n    Output: (1, 2)\n    Explanation: 1, 2, 3 are palindromes.\n"
    assert [(e.args, e.result) for e in doctest_examples(alone, "count", ["n"])] == [({"n": 3}, [1, 2])]
    code = "def helper():\n    n = 3\n    return 0\n"
    assert doctest_examples(code, "count", ["n"]) == []  # code, not a worked example
    # one sentence says it all: lst = [1, 2, 3] gives the output 6 only when every parameter is set
    assert [(e.args, e.result) for e in doctest_examples(text, "total", ["lst"])] == [
        ({"lst": [1, 2, 3]}, 6),
        ({"lst": []}, 0),
    ]


def test_a_text_that_defines_beside_its_examples_keeps_the_examples() -> None:
    """``tri(1) = 3`` defines the sequence; ``tri(3) = [1, 3, 2, 8]`` is what the function returns."""
    request = '''def tri(n):
    """The first n + 1 numbers of a sequence: tri(1) = 3, and so on.
    Examples:
    tri(3) = [1, 3, 2, 8]
    """
'''
    described = described_function(request)
    assert described is not None and described.spec is not None
    assert [(e.args, e.result) for e in described.spec.examples] == [({"n": 3}, [1, 3, 2, 8])]
    assert described.spec.signature() == "def tri(n)"


async def test_a_described_function_is_its_own_spec_and_keeps_its_helper(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    code = "def decode_pairs(s: str) -> str:\n    return encode_pairs(s)\n"
    with ScriptedModel() as model:
        model.on(
            "tests", "```python\nassert decode_pairs(s='') == ''\nassert decode_pairs(s='yx') == 'xy'\n```"
        )
        model.code("implementation", code)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize(DECODE)
        asked = list(model.asked)
        code_prompt = next(said for step, said in model.prompts if step == "implementation")
    assert result.ok, result.reason
    assert "spec" not in asked  # the signature and docstring are the spec
    anchors = [c for c in result.cases if c.anchor]
    assert [(c.args, c.expected) for c in anchors[:2]] == [({"s": "ba"}, "ab"), ({"s": "badc"}, "abcd")]
    # then round trips through the helper it undoes: the decoding of encode_pairs('hello') is 'hello'
    assert ({"s": "ehllo"}, "hello") in [(c.args, c.expected) for c in anchors[2:]]
    assert all(c.name.startswith("undoes_encode_pairs") for c in anchors[2:])
    assert "def encode_pairs(s: str) -> str:" in result.tool_source  # the helper goes with it
    assert "Takes a string encoded with encode_pairs" in code_prompt  # the docstring as written
    assert "def encode_pairs" in code_prompt


async def test_the_model_invented_cases_are_held_back_from_the_code(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    """The code is written from the spec and its example; passing cases it never saw is evidence."""
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", CASES).code("implementation", GOOD)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is 15% of 300?")
        code_prompt = next(said for step, said in model.prompts if step == "implementation")
    assert result.ok, result.reason
    assert "300" in code_prompt  # the worked example
    assert "200" not in code_prompt and "-40" not in code_prompt  # the invented cases


async def test_a_spec_reply_typed_as_python_writes_types_is_accepted(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    stub = (
        "```python\nfrom typing import List, Optional\n\n"
        "def average_above(numbers: List[float], floor: Optional[float] = None) -> float:\n"
        '    """The mean of the numbers above floor (all of them when there is none).\n\n'
        "    Args:\n        numbers: the numbers\n        floor: the lower bound\n\n"
        '    >>> average_above([4, 8, 15], 5)\n    11.5\n    """\n```'
    )
    code = (
        "def average_above(numbers: List[float], floor: Optional[float] = None) -> float:\n"
        "    kept = [n for n in numbers if floor is None or n > floor]\n"
        "    return sum(kept) / len(kept)\n"
    )
    cases = (
        "```python\nassert average_above(numbers=[1, 2, 3]) == 2.0\n"
        "assert average_above(numbers=[10, 20], floor=15) == 20.0\n"
        "assert average_above(numbers=[2, 4], floor=0) == 3.0\n```"
    )
    with ScriptedModel() as model:
        model.on("spec", stub).on("tests", cases).code("implementation", code)
        eng, _ = engine(model, sandbox, embedder)
        result = await eng.synthesize("What is the average of 4, 8 and 15 above 5?")
    assert result.ok, result.reason
    assert result.spec is not None and result.spec.signature() == (
        "def average_above(numbers: List[float], floor: Optional[float] = None) -> float"
    )
    assert [p.type for p in result.spec.parameters] == ["list", "float"]
    assert result.tool_source.startswith("from typing import List, Optional")


async def test_a_case_no_implementation_sides_with_is_set_aside_and_said(
    sandbox: Sandbox, embedder: Embedder
) -> None:
    """The test writer says 7% of 0.5 is 0.4. The code says 0.035; two implementations written
    apart, both right on the spec's own example, say 0.04 and 3.5 (neither 0.4 nor 0.035): the case
    is a guess nobody supports. It is set aside and listed, not passed, and the rest judge the code."""
    guessed = {
        "cases": [
            *CASES["cases"],
            {"name": "small", "args": {"value": 0.5, "percent": 7}, "expected": 0.4},
        ]
    }
    rounded = "def percentage_of(value, percent):\n    return round(percent / 100 * value, 2)\n"
    scaled = "def percentage_of(value, percent):\n    return value * percent / 100 if value >= 1 else value * percent\n"
    with ScriptedModel() as model:
        model.on("spec", SPEC).on("tests", guessed).code("implementation", GOOD)
        model.code("independent", rounded).code("independent", scaled)
        eng, registry = engine(model, sandbox, embedder, approve_new_tools="auto")
        result = await eng.synthesize("What is 15% of 300?")
        asked = list(model.asked)
    assert result.ok, result.reason
    assert asked.count("implementation") == 1
    assert [c.name for c in result.cases] == ["example_1", "half", "zero", "double", "negative"]
    assert "def test_small" not in result.test_source
    assert result.record is not None
    (line,) = registry.get(result.record.name).record.disputed
    assert line.startswith("test_small: the tests said 0.4, this code gives 0.035")


def test_the_code_writer_is_shown_the_requests_code_as_written() -> None:
    """Rewritten by us (signature regenerated, docstring re-indented, helper moved), the local
    model solved fewer of HumanEval's tasks than shown the text as written; the second opinion
    keeps the rewritten framing, so the two differ."""
    described = described_function(DECODE)
    assert described is not None and described.spec is not None
    spec = described.spec
    shown = prompts.implement_messages(spec)[-1]["content"]
    assert DECODE.strip() in shown  # helper and stub, verbatim, in order
    assert 'decode_pairs("badc") ➞ "abcd"' in shown
    apart = prompts.independent_messages(spec)[-1]["content"]
    assert DECODE.strip() not in apart and "decode_pairs" in apart


def test_which_helpers_a_function_undoes() -> None:
    assert undoes("decode_cyclic", "encode_cyclic") and undoes("encrypt_text", "decrypt_text")
    assert undoes("roman_to_int", "int_to_roman") and undoes("unwrap_lines", "wrap_lines")
    assert not undoes("decode_cyclic", "encode_shift") and not undoes("sum_list", "max_list")


async def test_a_helper_that_loses_its_input_decides_no_case(sandbox: Sandbox) -> None:
    """An "encoder" that keeps only the first letter cannot be undone: a round trip through it
    would be a wrong anchor, so it gives none, where one that can be undone gives several."""
    lossy = described_function(
        DECODE.replace('"".join(s[i + 1 : i + 2] + s[i] for i in range(0, len(s), 2))', "s[:1]")
    )
    kept = described_function(DECODE)
    assert lossy is not None and lossy.spec is not None and kept is not None and kept.spec is not None
    assert await round_trips(sandbox, lossy.spec) == ("encode_pairs", [])
    helper, cases = await round_trips(sandbox, kept.spec)
    assert helper == "encode_pairs" and len(cases) >= 5
