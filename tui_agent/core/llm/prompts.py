"""The words we send the model, in one place. Written for small local models: short, concrete,
one task per message. Each system prompt is fixed and comes first, the request last, so the
server's prompt cache holds the part every call of a step shares."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from tui_agent.core.tool.cases import CUT, TestCase, inline_file, is_whole
from tui_agent.core.tool.read_tests import read_tests
from tui_agent.core.tool.spec import Parameter, ToolSpec

SPEC_SYSTEM = '''You design ONE small, general, pure Python function that answers requests like the user's.
Generalise: the concrete values in the request become parameters. "What is 15% of 300?" becomes
percentage_of(value: float, percent: float), not a function without arguments.
Parameters are the inputs only: the answer is the return value, never a parameter. If the answer
depends on today's date, take it as a parameter today: str (YYYY-MM-DD), which is filled in for you.
Type every parameter and the result with str, int, float, bool, list or dict. Numeric answers
return int or float, not formatted strings; a ratio, an average or a rate returns float. A yes/no
question returns bool.
A file the request names (sales.csv, notes.txt, data.json) is a parameter file_path: str: the
function gets the file's path and reads it with the standard library (open, csv, json). Its
examples give the file's content as a string of a few lines, never the file's name.
Write the signature and the docstring only, no body: one line on what it computes, in the
request's own words ("the average of the price column", not "the average price"), an Args: line
per parameter, then 1 to 3 doctest examples with exact results; the first uses the values from
the request. Compute every example result carefully. Reply in one ```python code block, like:
def percentage_of(value: float, percent: float) -> float:
    """The given percent of a value.

    Args:
        value: the whole amount
        percent: the percentage to take, 15 for 15%

    >>> percentage_of(300, 15)
    45.0
    """'''

TESTS_SYSTEM = """You write test cases for a Python function: one pytest assert per line, calling it
with keyword arguments and comparing with the exact expected value, like
    assert area(width=2, height=3) == 6
Choose arguments whose expected value follows for certain from the description: typical values,
then edge cases. Do not guess about rounding or formatting. For a parameter of type file, give the
file's content as a string of a few lines, never a file name. Compute every expected value carefully.
Reply with only the test lines in one ```python code block: no function, no imports, no comments."""
ERROR_CASE = """ The description says when it fails: one case may check that, like
    with pytest.raises(ValueError):
        area(width=-1, height=3)"""

IMPLEMENT_SYSTEM = """You write one Python function that does what its description says and gives
exactly the results of its examples. Use exactly the signature given. Use only the standard
library. No input(), no printing, no network; open no file except one a parameter of type file
gives, for reading. Reply with the complete function in one ```python code block and nothing else."""

INDEPENDENT_SYSTEM = """You write one Python function from its description and worked examples.
Inside the function, before the code, write a short comment that works through the first example
by hand. Use exactly the signature given and only the standard library.
Reply with the complete function in one ```python code block and nothing else."""

ARGS_SYSTEM = """You extract the arguments for a function call from a user's request.
Use only values the request gives; for a required value the request does not give, list its name
in "missing" and leave it null."""

GROUND_SYSTEM = """You work out the answer to a request with a few lines of Python.
Use only the values the request gives, and the standard library. Put the final answer in a
variable named answer: a number, a text, a bool or a list. Do not round unless the request asks.
No input(), no printing, no files, no network. A variable today already holds today's date
(a datetime.date).
If the answer needs live data from the internet (weather, prices, exchange rates, news, scores),
write only one line: LIVE: what is needed
If the answer needs something only the person asking knows (their age, birthday, salary,
weight), write only one line: ASK: the question to ask them
Examples:
Request: What percentage of 120 is 30?
```python
answer = 30 / 120 * 100
```
Request: Is 'noon' a palindrome?
```python
text = 'noon'
answer = text == text[::-1]
```
Request: Split 100 among 3 people, to two decimal places
```python
answer = round(100 / 3, 2)
```
Request: What will the weather be in Rome tomorrow?
LIVE: the weather forecast for Rome
Request: How many years until I retire?
ASK: How old are you, and at what age will you retire?"""

FOLLOWUP_SYSTEM = """You rewrite a new request so that it can be understood on its own, using the
previous requests and answers. Keep every value the new request gives; take from the previous
exchange only what the new request leaves out. If the new request already stands alone, repeat it
exactly. Reply with the rewritten request only, on one line.
Example:
Previous request: How many hours are in 3 days?
Previous answer: 72
New request: and in 5?
How many hours are in 5 days?"""

PLAN_SYSTEM = """You answer a request in steps. A step calls one of the tools listed only when
that tool computes exactly what the step needs; its args are values written in the request, or
"$1" for the result of step 1, "$2" for step 2 (never a number you worked out yourself).
When no tool listed computes a step, the step's tool is "new", and its request says what the
step computes as a short plain request, with "$1" where an earlier result goes.
Use every value the request gives. Use two or three steps, the fewest that answer the request."""

# Worked plans shown as earlier turns: a small model follows a shown reply better than a rule.
_WORD_COUNT = 'word_count(text: str) -> int\n    """Return the number of words in text."""'
PLAN_EXAMPLES = [
    (
        _WORD_COUNT,
        "How many words are in 'red green blue', times 3?",
        '{"steps": [{"tool": "word_count", "args": {"text": "red green blue"}}, '
        '{"tool": "new", "args": {}, "request": "Multiply $1 by 3"}]}',
    ),
    (
        _WORD_COUNT,
        "What is the smallest of 4, 9 and 2, cubed?",
        '{"steps": [{"tool": "new", "args": {}, "request": "What is the smallest of 4, 9 and 2?"}, '
        '{"tool": "new", "args": {}, "request": "What is $1 cubed?"}]}',
    ),
]

ANSWER_SYSTEM = """You answer the user's request in one or two plain sentences, using the computed
result exactly as given. Do not compute anything yourself and do not change the result."""


# A reply in a code block has said what it has to at the block's closing fence.
AFTER_CODE = ["\n```\n"]


def spec_messages(
    request: str, problem: str = "", samples: dict[str, str] | None = None
) -> list[dict[str, str]]:
    ask = f"Request: {request}"
    for name, sample in (samples or {}).items():
        how = "is all of this" if is_whole(sample) else "begins like this"
        ask += f"\nThe file {name} {how}:\n```\n{sample}\n```"
    if problem:
        ask += f"\nA previous design was not usable: {problem}. Design it again."
    return [{"role": "system", "content": SPEC_SYSTEM}, {"role": "user", "content": ask}]


def spec_text(spec: ToolSpec) -> str:
    if spec.described and spec.docstring:
        # the request's own words, examples included: a paraphrase loses what tests and code need
        docstring = "\n".join(f"    {line}" if line else "" for line in spec.docstring.splitlines())
        return f'{spec.signature()}:\n    """\n{docstring}\n    """' + file_note(spec)
    return (
        f'{spec.signature()}\n"""{spec.description}"""\n'
        + "\n".join(_parameter_line(p) for p in spec.parameters)
        + "".join(
            f"\n# example: {spec.function_name}(**{json.dumps(_as_written(e.args))}) == {e.result!r}"
            for e in spec.examples
        )
        + file_note(spec)
    )


def code_task(spec: ToolSpec) -> str:
    """What the code writer is asked for. A request that wrote code around its function is shown
    as it wrote it, that code first: shown the helper afterwards as something to use, the local
    model copied encode_cyclic's body into decode_cyclic."""
    if not spec.context.strip():
        return f"Function to write:\n{spec_text(spec)}"
    return (
        f"Complete the function {spec.function_name} at the end; the code before it is given and may "
        f"be called, not copied:\n```python\n{spec.context}\n\n\n{spec_text(spec)}\n```"
    )


def written_task(spec: ToolSpec) -> str:
    """The code writer's task for a request that wrote its function out: its code as written,
    to be completed (the spec's rewriting of it is the second opinion's framing)."""
    if not spec.written.strip():
        return code_task(spec)
    return f"Complete the function {spec.function_name}:\n```python\n{spec.written}\n```"


def _parameter_line(p: Parameter) -> str:
    line = f"# {p.name}: {p.description}"
    if p.sample:
        shown = "\n".join(f"#     {row}" for row in p.sample.splitlines())
        line += f"\n#   (the file the request names begins like this:\n{shown}\n#   )"
    return line


TEXT_SUFFIX = "_text"
TEST_COUNT = 5  # beside the spec's own examples, which are cases already


def as_text_spec(spec: ToolSpec) -> ToolSpec:
    """The spec as the test writer sees it: a file parameter shown as the file's whole text
    (``file_path`` -> ``file_path_text``). Shown a path, a small model writes file names that
    exist nowhere; shown a text, it writes the file's content, which the engine gives back to
    the function as a file."""
    files = {p.name for p in spec.parameters if p.type == "file"}
    if not files:
        return spec
    params = [
        p.model_copy(
            update={
                "name": p.name + TEXT_SUFFIX,
                "type": "str",
                "annotation": "",
                "description": "the whole text of the file (for a CSV: a header line, then rows)"
                + ("; write it in the same layout as the file the request names" if p.sample else ""),
                "sample": _layout(p.sample),
            }
        )
        if p.name in files
        else p
        for p in spec.parameters
    ]
    examples = [e.model_copy(update={"args": _text_args(e.args, files)}) for e in spec.examples]
    return spec.model_copy(update={"parameters": params, "examples": examples})


def _layout(sample: str) -> str:
    """How a file is laid out, for the test writer: a table's header and first row (shown every
    row, a small model copies them into every case), a JSON document whole (cut to two lines,
    it invented a wrapper key around the real ones)."""
    lines = [line for line in sample.splitlines() if line != CUT]
    return "\n".join(lines if sample.lstrip()[:1] in ("{", "[") else lines[:2])


def _text_args(args: dict[str, Any], files: set[str]) -> dict[str, Any]:
    """A case's arguments as the test writer sees them: a file as ``<name>_text``, its content."""
    return {(k + TEXT_SUFFIX if k in files else k): v for k, v in _as_written(args).items()}


def from_text_args(args: dict[str, Any], files: set[str]) -> dict[str, Any]:
    """A test case's arguments as the test writer gave them, under the function's own names."""
    return {
        (k.removesuffix(TEXT_SUFFIX) if k.removesuffix(TEXT_SUFFIX) in files else k): v
        for k, v in args.items()
    }


def _assert_line(function: str, args: dict[str, Any], result: Any) -> str:
    call = f"{function}({', '.join(f'{k}={v!r}' for k, v in args.items())})"
    return (
        f"assert {call} is {result!r}"
        if result is None or isinstance(result, bool)
        else f"assert {call} == {result!r}"
    )


def tests_messages(
    spec: ToolSpec, problem: str = "", kept: Sequence[TestCase] = (), *, errors: bool = False
) -> list[dict[str, str]]:
    """The function described in prose (shown as code, a small model copies it back) and its
    examples as the first assert lines, to be continued; on a retry, with the cases kept from
    the last try among them (shown none, a small model loses the format: it wrote tests of an
    ``area`` function for a CSV average). An error case is asked for only when the description
    says when the function fails (``errors``): shown how to write one anyway, the local model
    wrote one in a test reply of four, each dropped as a rule the spec does not have."""
    files = {p.name for p in spec.parameters if p.type == "file"}
    spec = as_text_spec(spec)
    about = spec.docstring if spec.described and spec.docstring else spec.description
    lines = [f"Function: {spec.signature().removeprefix('def ')}", f"What it does: {about}"]
    lines += [_parameter_line(p) for p in spec.parameters if p.description or p.sample]
    shown = [_assert_line(spec.function_name, e.args, e.result) for e in spec.examples]
    shown += [
        _assert_line(spec.function_name, _text_args(c.args, files), c.expected)
        for c in kept
        if not (c.example or c.raises)
    ]
    ask = "\n".join(lines)
    if shown:
        ask += "\n\nTests so far:\n```python\n" + "\n".join(shown) + "\n```"
    ask += (
        f"\n\nWrite {TEST_COUNT} {'more ' if shown else ''}assert lines with other arguments: typical values, "
        "then edge cases."
    )
    ask += ERROR_CASE if errors else " Only valid arguments: every line checks the value it returns."
    if files:
        ask += (
            " Each case gets its own small file text: 2 to 4 lines with small, simple values whose "
            "answer you can work out exactly."
        )
    if problem:
        ask += f"\nThe previous cases were not enough: {problem}. Write cases with other arguments."
    return [{"role": "system", "content": TESTS_SYSTEM}, {"role": "user", "content": ask}]


def independent_messages(spec: ToolSpec) -> list[dict[str, str]]:
    """The second opinion's framing: from the spec alone, reasoning from an example first."""
    ask = code_task(spec)
    return [{"role": "system", "content": INDEPENDENT_SYSTEM}, {"role": "user", "content": ask}]


def implement_messages(
    spec: ToolSpec, tests: str = "", failure: str = "", previous: str = ""
) -> list[dict[str, str]]:
    """The function to write; ``tests``, when given, the tests it must pass; ``failure``: the
    cases an earlier version failed (with that version, ``previous``, when it is to be fixed)."""
    ask = written_task(spec)
    if tests:
        ask += f"\n\nThe tests it must pass:\n```python\n{compact_tests(tests, spec)}\n```"
    if failure and previous:
        ask += f"\n\nYour previous version:\n```python\n{previous}\n```\nfailed these tests:\n{failure}\nFix the function."
    elif failure:
        ask += f"\n\nAn earlier version failed these tests:\n{failure}\nWrite the function so that it passes them."
    return [{"role": "system", "content": IMPLEMENT_SYSTEM}, {"role": "user", "content": ask}]


def compact_tests(tests: str, spec: ToolSpec) -> str:
    """The rendered test file as one assert line per case: the same checks in half the prompt.
    A file that does not read back as plain cases (inline files, say) is shown as it is."""
    read = read_tests(tests, spec.function_name, [p.name for p in spec.parameters])
    if read.unread or not read.cases:
        return tests
    return "\n".join(
        f"with pytest.raises({c.raises}): {spec.function_name}({', '.join(f'{k}={v!r}' for k, v in c.args.items())})"
        if c.raises
        else _assert_line(spec.function_name, c.args, c.expected)
        for c in read.cases
    )


def _as_written(args: dict[str, Any]) -> dict[str, Any]:
    """An inline file shown as the model is asked to write one: its content."""
    return {k: found[1] if (found := inline_file(v)) else v for k, v in args.items()}


def file_note(spec: ToolSpec) -> str:
    """A file parameter is the one file the function may open: its path, read-only."""
    files = [p.name for p in spec.parameters if p.type == "file"]
    if not files:
        return ""
    return (
        f"\n# {', '.join(files)}: the path of a file (type file); the function opens it for reading "
        "(open, csv, json). Examples and tests give the file's content as a string of a few lines, "
        "never a file name; the function receives the path of a file holding that content."
    )


def tool_card(spec: ToolSpec) -> str:
    """What a function computes, as the fit check sees it: signature, docstring, an example."""
    card = f'{spec.signature()}\n    """{spec.docstring.strip() or spec.description}"""'
    if spec.docstring.strip() and spec.description.strip():
        card += f"\n# {spec.description}"
    for e in spec.examples[:1]:
        shown = ", ".join(f"{k}={json.dumps(v)}" for k, v in e.args.items())
        card += f"\n# example: {spec.function_name}({shown}) returns {json.dumps(e.result)}"
    return card


def followup_messages(request: str, recent: list[tuple[str, str]]) -> list[dict[str, str]]:
    said = "\n".join(f"Previous request: {r}\nPrevious answer: {a}" for r, a in recent)
    return [
        {"role": "system", "content": FOLLOWUP_SYSTEM},
        {"role": "user", "content": f"{said}\nNew request: {request}"},
    ]


def plan_messages(request: str, tools: list[ToolSpec]) -> list[dict[str, str]]:
    cards = "\n\n".join(tool_card(t) for t in tools)
    shown: list[dict[str, str]] = []
    for card, asked, plan in PLAN_EXAMPLES:
        shown += [
            {"role": "user", "content": f"Tools:\n{card}\n\nRequest: {asked}"},
            {"role": "assistant", "content": plan},
        ]
    return [
        {"role": "system", "content": PLAN_SYSTEM},
        *shown,
        {"role": "user", "content": f"Tools:\n{cards}\n\nRequest: {request}"},
    ]


def ground_messages(request: str) -> list[dict[str, str]]:
    """The system prompt never changes and comes first, so the server's prompt cache keeps it."""
    return [{"role": "system", "content": GROUND_SYSTEM}, {"role": "user", "content": f"Request: {request}"}]


def args_messages(spec: ToolSpec, request: str) -> list[dict[str, str]]:
    ask = f"Function:\n{tool_card(spec)}\n\nRequest: {request}"
    return [{"role": "system", "content": ARGS_SYSTEM}, {"role": "user", "content": ask}]


def answer_messages(request: str, tool: str, args: dict[str, object], value: object) -> list[dict[str, str]]:
    ask = f"Request: {request}\nComputed by {tool}({json.dumps(args)}): {json.dumps(value)}"
    return [{"role": "system", "content": ANSWER_SYSTEM}, {"role": "user", "content": ask}]
