"""Second opinions: implementations written from the spec alone, apart from the code under test
and from each other. They never see the tests, so what they compute is evidence about a test
the model invented; one that reads the same as the code it is meant to check proves nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from tui_agent.core.sandbox.static_gate import GateError, gate_tool
from tui_agent.core.synthesis.agreement import judge_failures
from tui_agent.core.synthesis.candidates import Failure, Judged, normalised
from tui_agent.core.synthesis.coding import implement as implement_code
from tui_agent.core.synthesis.workbench import Workbench
from tui_agent.core.tool.cases import TestCase
from tui_agent.core.tool.spec import Example, ToolSpec

Implement = Callable[..., Awaitable[str]]  # (spec, tests, **options) -> code
TEMPERATURES = (0.7, 1.0, 1.0, 1.0)


class SecondOpinions:
    """The opinions of one synthesis, drawn on need and kept while they decide something."""

    def __init__(self, bench: Workbench, request_id: str, implement: Implement) -> None:
        self.bench = bench
        self.rid = request_id
        self.implement = implement
        self.codes: list[str] = []

    async def draw(self, spec: ToolSpec, count: int, against: tuple[str, ...] = ()) -> bool:
        """At least ``count`` opinions, each different (as a syntax tree) from ``against`` and
        from each other, framed apart and sampled. False when they could not be drawn."""
        for temperature in TEMPERATURES:
            if len(self.codes) >= count:
                return True
            code = await self.implement(spec, "", temperature=temperature, show=False, independent=True)
            try:
                gate_tool(code, spec.function_name)
            except GateError:
                continue
            if normalised(code) not in {normalised(c) for c in (*against, *self.codes)}:
                self.codes.append(code)
        return len(self.codes) >= count

    async def judge(
        self, spec: ToolSpec, cases: list[TestCase], failures: list[Failure], current: str
    ) -> Judged:
        """What opinions say about the failing cases the model invented (:func:`judge_failures`).
        One is drawn first, another while a case is left undecided, three at most."""
        suspects = [f for f in failures if f.case is not None and not f.case.anchor]
        if not suspects:
            return Judged()
        failing = {f.name for f in failures}
        anchors = [c for c in cases if c.anchor or (c.example and c.test_name not in failing)]
        # shown a worked example in doubt (24 for the digits of 98765), an opinion bends to it
        settled = [Example(args=c.args, result=c.expected, stated=c.anchor) for c in anchors if c.example]
        shown = spec.model_copy(update={"examples": settled})
        judged = Judged()
        for count in (1, 2, 3):
            if not await self.draw(shown, count, (current,)):
                break
            judged = await judge_failures(self.bench.sandbox, spec, self.codes, suspects, anchors)
            if not judged.undecided:
                break
        self.bench.report.say(
            self.rid,
            f"second opinions ({judged.counted} that pass the request's own cases) on {len(suspects)} "
            f"failing cases: {len(judged.fixes)} tests corrected, {len(judged.confirmed)} confirmed, "
            f"{len(judged.disputed)} disputed",
        )
        if not (judged.fixes or judged.confirmed or judged.disputed):
            self.codes = []  # these decided nothing: the next failure draws new ones
        return judged


def spec_only(bench: Workbench, request_id: str) -> Implement:
    """The plain implementation call, for opinions outside a synthesis run."""

    async def implement(spec: ToolSpec, tests: str, **options: Any) -> str:
        return await implement_code(bench, spec, tests, request_id, **options)

    return implement
