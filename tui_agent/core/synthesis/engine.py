"""Test-driven synthesis of a tool, in steps that each publish events:
spec -> tests (cases as data) -> gates (enough cases, none passed by a stub) -> implementation
(streamed) -> verify (the cases' arguments run in the sandbox, the host compares) -> repair (at
most N) -> register.

The engine holds only what lasts between requests (the model, the sandbox, the library); the
state of one synthesis lives in its :class:`~tui_agent.core.synthesis.run.SynthesisRun`."""

from __future__ import annotations

from collections import Counter

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import CodeChunk, SynthesisStep
from tui_agent.core.library.registry import Registry
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.llm.prompts import from_text_args
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.synthesis.code import (
    extract_code,
    with_module_imports,
    with_typing_imports,
    without_tests,
)
from tui_agent.core.synthesis.drafting import make_spec, read_test_reply
from tui_agent.core.synthesis.inverse import round_trips
from tui_agent.core.synthesis.opinions import say
from tui_agent.core.synthesis.run import ExistingServes, SynthesisFailed, SynthesisResult, SynthesisRun
from tui_agent.core.synthesis.spec_checks import overspecified
from tui_agent.core.tool.cases import (
    Outcome,
    TestCase,
    matches,
    render_tests,
    unique_cases,
    with_inline_files,
)
from tui_agent.core.tool.described import with_context
from tui_agent.core.tool.spec import ToolSpec

__all__ = ["SynthesisEngine", "SynthesisFailed", "SynthesisResult"]

MIN_TESTS = 4
STUB_OUTCOME = Outcome("raises", raises=("NotImplementedError", "RuntimeError", "Exception", "BaseException"))
SPEC_TRIES = 3
TEST_REWRITES = 2


class SynthesisEngine:
    def __init__(
        self,
        llm: LLMClient,
        sandbox: Sandbox,
        registry: Registry | None,
        settings: Settings,
        bus: EventBus | None = None,
    ) -> None:
        self.llm = llm
        self.sandbox = sandbox
        self.registry = registry
        self.settings = settings
        self.bus = bus

    def step(self, request_id: str, step: str, status: str, attempt: int = 1, detail: str = "") -> None:
        if self.bus is not None:
            self.bus.publish(
                SynthesisStep(
                    step=step, status=status, attempt=attempt, detail=detail[:300], request_id=request_id
                )
            )

    def publish_code(self, request_id: str, file: str, text: str, *, replace: bool = True) -> None:
        if self.bus is not None:
            self.bus.publish(CodeChunk(file=file, text=text, replace=replace, request_id=request_id))

    async def synthesize(
        self,
        request: str,
        *,
        request_id: str = "",
        register: bool = True,
        existing_serves: ExistingServes | None = None,
        samples: dict[str, str] | None = None,
    ) -> SynthesisResult:
        """``existing_serves(name)``: asked when the drafted name is a tool we already have;
        ``samples``: how each file the request names begins (shown to the model, never stored)."""
        run = SynthesisRun(
            self, request, request_id, register=register, existing_serves=existing_serves, samples=samples
        )
        return await run.run()

    # --- spec -------------------------------------------------------------------------

    async def make_spec(
        self, request: str, request_id: str, samples: dict[str, str] | None = None
    ) -> ToolSpec:
        return await make_spec(self, request, request_id, samples)

    # --- tests ------------------------------------------------------------------------

    async def make_tests(
        self,
        spec: ToolSpec,
        request_id: str,
        problem: str = "",
        kept: list[TestCase] | None = None,
        decided: list[TestCase] | None = None,
    ) -> tuple[list[TestCase], Counter[str]]:
        """The spec's worked examples first (anchors), then the cases the request's own code
        ``decided``, then usable cases kept from earlier tries, then this try's, and why the
        others were dropped. A retry samples (temperature) so it is not the same draw again."""
        anchors = [
            TestCase(name=f"example_{i + 1}", args=e.args, expected=e.result, anchor=e.stated, example=True)
            for i, e in enumerate(spec.examples)
        ]
        anchors += decided or []
        reply = await self.llm.complete(
            prompts.tests_messages(spec, problem, kept or []),
            purpose="tests",
            request_id=request_id,
            max_tokens=900,
            temperature=0.7 if problem else 0.0,
        )
        written, unread = read_test_reply(reply, prompts.as_text_spec(spec))
        names = {p.name for p in spec.parameters}
        required = {p.name for p in spec.parameters if p.required}
        files = {p.name for p in spec.parameters if p.type == "file"}
        usable = []
        dropped: Counter[str] = Counter()
        if unread:
            dropped["a line that is not a plain check of the function"] += unread
        for c in written:
            c = c.model_copy(update={"args": from_text_args(c.args, files)})
            if not set(c.args) <= names:
                dropped["arguments the function does not take"] += 1
                continue
            if not (c.raises or required <= set(c.args)):
                dropped["a required argument missing"] += 1
                continue
            if overspecified(spec, c):
                dropped["an error the description never mentions"] += 1
                continue
            args = with_inline_files(c.args, files)  # a file's content, or no case: a bare name is no file
            if args is None and not c.raises:
                dropped["a file name where the file's content belongs"] += 1
                continue
            usable.append(c.model_copy(update={"anchor": False, "example": False, "args": args or c.args}))
        before = [*anchors, *(kept or []), *usable]
        cases = unique_cases(before)
        if len(cases) < len(before):
            dropped["the same arguments as another case"] += len(before) - len(cases)
        return cases, dropped

    async def gated_tests(self, spec: ToolSpec, request_id: str) -> tuple[list[TestCase], str]:
        problem = ""
        kept: list[TestCase] = []
        helper, decided = await round_trips(self.sandbox, spec)
        if decided:
            say(
                self,
                request_id,
                f"{len(decided)} cases from the request's own {helper}, which the function undoes",
            )
        for attempt in range(1, TEST_REWRITES + 2):
            self.step(request_id, "tests", "started", attempt)
            cases, dropped = await self.make_tests(spec, request_id, problem, kept, decided)
            if len(cases) < MIN_TESTS:
                kept = cases  # too few, but each one usable: keep them and ask for more
            why = "; ".join(f"{n} with {reason}" for reason, n in dropped.most_common())
            self.step(
                request_id,
                "tests",
                "done",
                attempt,
                f"{len(cases)} cases" + (f" (dropped: {why})" if why else ""),
            )
            self.step(request_id, "gates", "started", attempt)
            try:
                source = render_tests(spec.function_name, cases)
            except ValueError as exc:
                problem = str(exc)
                self.step(request_id, "gates", "failed", attempt, problem)
                continue
            problem = await self._gate_problem(spec, cases, source)
            if problem and why:
                problem += f"; cases were dropped for {why}"
            if not problem:
                self.step(request_id, "gates", "done", attempt, f"{len(cases)} cases, none passed by a stub")
                self.publish_code(request_id, "test_tool.py", source)
                return cases, source
            self.step(request_id, "gates", "failed", attempt, problem)
        raise SynthesisFailed("gates", f"no usable tests after {TEST_REWRITES + 1} tries: {problem}")

    async def _gate_problem(self, spec: ToolSpec, cases: list[TestCase], source: str) -> str:
        """Enough cases, and none that a stub which does nothing would pass (judged on the host,
        by the same comparison as the real verification: a stub only ever raises)."""
        if len(cases) < MIN_TESTS:
            return f"only {len(cases)} usable cases, at least {MIN_TESTS} are needed"
        passing = [c.test_name for c in cases if matches(c, STUB_OUTCOME)]
        if passing:
            return f"vacuous: {', '.join(passing[:3])} passed against a stub that does nothing"
        return ""

    # --- implementation ---------------------------------------------------------------

    async def implement(
        self,
        spec: ToolSpec,
        tests: str,
        request_id: str,
        failure: str = "",
        previous: str = "",
        temperature: float = 0.0,
        show: bool = True,
        independent: bool = False,
    ) -> str:
        """Greedy by default (reproducible); the spec-only second opinion (``independent``: its
        own framing) samples and is not shown (``show``), so the viewer only ever streams the
        candidate under test."""
        pieces: list[str] = []
        if show:
            self.publish_code(request_id, "tool.py", "")
        messages = (
            prompts.independent_messages(spec)
            if independent
            else prompts.implement_messages(spec, tests, failure, previous)
        )
        async for piece in self.llm.stream(
            messages,
            purpose="implementation",
            request_id=request_id,
            max_tokens=1200,
            temperature=temperature,
        ):
            pieces.append(piece)
            if show:
                self.publish_code(request_id, "tool.py", piece, replace=False)
        code = with_module_imports(
            with_typing_imports(with_context(without_tests(extract_code("".join(pieces))), spec.context))
        )
        if show:
            self.publish_code(request_id, "tool.py", code)
        return code
