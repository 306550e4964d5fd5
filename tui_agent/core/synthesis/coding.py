"""The code: one implementation call, streamed into the viewer, made into a module that imports
what it uses and holds none of the tests a model likes to append."""

from __future__ import annotations

from tui_agent.core.llm import prompts
from tui_agent.core.synthesis.code import (
    extract_code,
    with_module_imports,
    with_spec_header,
    with_typing_imports,
    without_tests,
)
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.described import with_context
from tui_agent.core.tool.spec import ToolSpec

MAX_TOKENS = 700  # a small function; the longest measured replies were ~450 tokens


async def implement(
    bench: Workbench,
    spec: ToolSpec,
    tests: str,
    request_id: str,
    failure: str = "",
    previous: str = "",
    temperature: float = 0.0,
    show: bool = True,
    independent: bool = False,
) -> str:
    """Greedy by default (reproducible); the spec-only second opinion (``independent``: its own
    framing) samples and is not shown (``show``), so the viewer only ever streams the candidate
    under test."""
    pieces: list[str] = []
    if show:
        bench.report.code(request_id, "tool.py", "")
    messages = (
        prompts.independent_messages(spec)
        if independent
        else prompts.implement_messages(spec, tests, failure, previous)
    )
    async for piece in bench.llm.stream(
        messages,
        purpose="implementation",
        request_id=request_id,
        max_tokens=MAX_TOKENS,
        temperature=temperature,
        stop=prompts.AFTER_CODE,
    ):
        pieces.append(piece)
        if show:
            bench.report.code(request_id, "tool.py", piece, replace=False)
    code = with_spec_header(without_tests(extract_code("".join(pieces))), spec)
    code = with_module_imports(with_typing_imports(with_context(code, spec.context)))
    if show:
        bench.report.code(request_id, "tool.py", code)
    return code
