"""Test-driven synthesis of a tool, in steps that each publish events:
spec -> tests -> gates (the tests must fail on a stub) -> implementation (streamed) -> verify in
the sandbox -> repair (at most N) -> register.

Small models write wrong tests as often as wrong code, so a failing test is not simply retried:
a test's expected value is corrected only when an independent implementation, written from the
spec alone, computes the same value as the current one (dual agreement); then the same code is
verified again against the corrected tests. Where the two disagree, the implementation is
repaired. Tests are never deleted and their count never drops."""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field
from typing import Any

from tui_agent.core import prompts
from tui_agent.core.config import Settings
from tui_agent.core.events import CodeChunk, EventBus, SynthesisStep
from tui_agent.core.grounding import NUMBER, grounded
from tui_agent.core.llm import LLMClient, LLMError
from tui_agent.core.registry import Registry, verdict_record
from tui_agent.core.sandbox import Sandbox, Verdict
from tui_agent.core.sandbox.base import verdict_event
from tui_agent.core.sandbox.static_gate import GateError, gate_tests, gate_tool
from tui_agent.core.spec import PYTHON_TYPES, Parameter, ToolSpec
from tui_agent.core.testgen import ALLOWED_EXCEPTIONS, TestCase, TestPlan, render_tests, unique_cases
from tui_agent.core.tool_store import ToolRecord, ToolStoreError, validate_name

MIN_TESTS = 4
SPEC_TRIES = 3
TEST_REWRITES = 2
PARAM_TYPES = frozenset(PYTHON_TYPES)


@dataclass
class SynthesisResult:
    ok: bool
    reason: str = ""
    spec: ToolSpec | None = None
    tool_source: str = ""
    test_source: str = ""
    verdict: Verdict | None = None
    record: ToolRecord | None = None
    attempts: int = 0
    test_fixes: list[str] = field(default_factory=list)


class SynthesisFailed(Exception):
    def __init__(self, step: str, message: str) -> None:
        super().__init__(message)
        self.step = step


def extract_code(text: str) -> str:
    blocks = re.findall(r"```(?:python|py)?\s*\n(.*?)```", text, re.DOTALL)
    if blocks:
        return max(blocks, key=len).strip() + "\n"
    if "```" in text:  # an unterminated block while streaming
        return text.split("```", 1)[1].removeprefix("python").strip() + "\n"
    return text.strip() + "\n"


def declared_signature(description: str) -> tuple[str, list[Parameter], str | None] | None:
    """``name(a: int, b: float = 1.0) -> float`` named in a description, if any."""
    match = re.search(r"(?:def\s+)?([A-Za-z_]\w*)\s*\(([^()]*)\)\s*(?:->\s*([A-Za-z_]\w*))?", description)
    if not match or not match.group(2).strip():
        return None
    try:
        tree = ast.parse(f"def {match.group(1)}({match.group(2)}): pass")
    except SyntaxError:
        return None
    function = tree.body[0]
    assert isinstance(function, ast.FunctionDef)
    args = function.args.args
    defaults = [None] * (len(args) - len(function.args.defaults)) + list(function.args.defaults)
    params = []
    for arg, default in zip(args, defaults, strict=True):
        kind = (
            arg.annotation.id
            if isinstance(arg.annotation, ast.Name) and arg.annotation.id in PARAM_TYPES
            else "str"
        )
        if default is None:
            params.append(Parameter(name=arg.arg, type=kind))  # type: ignore[arg-type]
        else:
            params.append(
                Parameter(name=arg.arg, type=kind, default=ast.literal_eval(default), required=False)
            )  # type: ignore[arg-type]
    if not any(isinstance(a.annotation, ast.Name) for a in args):
        return None  # "foo(bar)" in prose is not a signature
    return match.group(1), params, match.group(3)


def overspecified(spec: ToolSpec, case: TestCase) -> bool:
    """An error case whose arguments all have the declared types, for a spec that never says when
    it fails: the model invented a rule the spec does not have."""
    if not case.raises:
        return False
    text = f"{spec.description} {spec.docstring}".lower()
    if any(word in text for word in ("raise", "error", "invalid", "must be", "only ", "negative", "zero")):
        return False
    kinds = {p.name: p.type for p in spec.parameters}
    return all(k in kinds and _has_type(v, kinds[k]) for k, v in case.args.items())


def _has_type(value: Any, kind: str) -> bool:
    if kind == "float":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, PYTHON_TYPES[kind])


def request_values(request: str) -> list[str]:
    """The values a request writes out: quoted strings and numbers, in order."""
    quoted = re.findall(r"'([^']+)'|\"([^\"]+)\"", request)
    strings = [a or b for a, b in quoted]
    rest = re.sub(r"'[^']+'|\"[^\"]+\"", " ", request)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", rest)
    rest = re.sub(r"\d{4}-\d{2}-\d{2}", " ", rest)
    return [repr(v) for v in strings] + [repr(d) for d in dates] + NUMBER.findall(rest)


def spec_problem(spec: ToolSpec, request: str) -> str:
    """Why a spec cannot serve its own request, or "". A request that writes out values must be
    answerable by one of the spec's examples built from those values alone: a parameter that
    would need a value the request never gives (the answer itself, say: f(kilometers, miles))
    fails this. The reason names the request's values: a small model told "use 80, 100" designs
    f(start, end) where a general remark got f(value, percent) three times over."""
    values = request_values(request)
    if not values:
        return ""  # a description, not a concrete request: nothing to check against
    if any(all(grounded(v, request) for v in e.args.values()) for e in spec.examples):
        return ""
    head = (
        "it has no worked example"
        if not spec.examples
        else "no worked example uses only values from the request"
    )
    return (
        f"{head}; the request gives the values {', '.join(values)}: every parameter must be one of "
        "these inputs, the answer is the return value, and the first example must call the "
        "function with exactly these values"
    )


def same_behaviour(a: tuple[str, Any], b: tuple[str, Any]) -> bool:
    """Two implementations agree: the same exception, or values equal as the tests compare them
    (floats within the tests' 1e-6 relative tolerance, so 0.621371 and 0.62137119 miles agree)."""
    if a[0] != b[0]:
        return False
    return _close(a[1], b[1])


def _close(x: Any, y: Any) -> bool:
    if isinstance(x, bool) or isinstance(y, bool):
        return x is y
    if isinstance(x, int | float) and isinstance(y, int | float):
        return math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9)
    if isinstance(x, list) and isinstance(y, list):
        return len(x) == len(y) and all(_close(i, j) for i, j in zip(x, y, strict=True))
    return bool(x == y)


def stub_source(spec: ToolSpec) -> str:
    params = ", ".join(p.name if p.required else f"{p.name}={p.default!r}" for p in spec.parameters)
    return f"def {spec.function_name}({params}):\n    raise NotImplementedError\n"


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
        self._independent: dict[str, str] = {}  # per request: a spec-only second implementation

    def _step(self, request_id: str, step: str, status: str, attempt: int = 1, detail: str = "") -> None:
        if self.bus is not None:
            self.bus.publish(
                SynthesisStep(
                    step=step, status=status, attempt=attempt, detail=detail[:300], request_id=request_id
                )
            )

    # --- steps ------------------------------------------------------------------------

    async def make_spec(self, request: str, request_id: str) -> ToolSpec:
        """A spec whose parameters the request can fill: retried (sampling) with the reason
        when its worked examples do not call it with the request's own values."""
        problem = ""
        for attempt in range(SPEC_TRIES):
            spec = await self._draft_spec(request, request_id, problem, temperature=0.5 if attempt else 0.0)
            problem = spec_problem(spec, request)
            if not problem:
                return spec
            self._step(request_id, "spec", "failed", attempt + 1, problem)
            if attempt + 1 < SPEC_TRIES:
                self._step(request_id, "spec", "started", attempt + 2)
        raise SynthesisFailed("spec", f"no usable spec after {SPEC_TRIES} tries: {problem}")

    async def _draft_spec(self, request: str, request_id: str, problem: str, temperature: float) -> ToolSpec:
        spec = await self.llm.structured(
            prompts.spec_messages(request, problem),
            ToolSpec,
            purpose="spec",
            request_id=request_id,
            temperature=temperature,
        )
        declared = declared_signature(request)
        if declared:
            name, params, returns = declared
            spec = spec.model_copy(
                update={
                    "function_name": name,
                    "parameters": params,
                    "return_type": returns or spec.return_type,
                }
            )
        names = {p.name for p in spec.parameters}
        examples = [
            e
            for e in spec.examples
            if set(e.args) <= names and all(p.name in e.args for p in spec.parameters if p.required)
        ]
        spec = spec.model_copy(update={"examples": examples})
        if spec.return_type == "int" and any(
            isinstance(e.result, float) and not e.result.is_integer() for e in examples
        ):
            # "-> int" with an example of 28.274...: the signature would make every
            # implementation round, and the tests (built from the examples) fail them all
            spec = spec.model_copy(update={"return_type": "float"})
        try:
            validate_name(spec.function_name)
        except ToolStoreError as exc:
            raise SynthesisFailed("spec", f"the spec's function name is not usable: {exc}") from None
        if not spec.parameters:
            raise SynthesisFailed("spec", "the spec has no parameters: it would not be a general tool")
        return spec

    async def make_tests(
        self, spec: ToolSpec, request_id: str, problem: str = "", kept: list[TestCase] | None = None
    ) -> list[TestCase]:
        """The spec's worked examples first (anchors), then usable cases kept from earlier
        tries, then this try's. A retry samples (temperature) so it is not the same draw again."""
        anchors = [
            TestCase(name=f"example_{i + 1}", args=e.args, expected=e.result)
            for i, e in enumerate(spec.examples)
        ]
        plan = await self.llm.structured(
            prompts.tests_messages(spec, problem),
            TestPlan,
            purpose="tests",
            request_id=request_id,
            max_tokens=1200,
            temperature=0.7 if problem else 0.0,
        )
        names = {p.name for p in spec.parameters}
        required = {p.name for p in spec.parameters if p.required}
        usable = [
            c
            for c in plan.cases
            if set(c.args) <= names and (c.raises or required <= set(c.args)) and not overspecified(spec, c)
        ]
        return unique_cases([*anchors, *(kept or []), *usable])

    async def gated_tests(self, spec: ToolSpec, request_id: str) -> tuple[list[TestCase], str]:
        problem = ""
        kept: list[TestCase] = []
        for attempt in range(1, TEST_REWRITES + 2):
            self._step(request_id, "tests", "started", attempt)
            cases = await self.make_tests(spec, request_id, problem, kept)
            if len(cases) < MIN_TESTS:
                kept = cases  # too few, but each one usable: keep them and ask for more
            self._step(request_id, "tests", "done", attempt, f"{len(cases)} cases")
            self._step(request_id, "gates", "started", attempt)
            try:
                source = render_tests(spec.function_name, cases)
            except ValueError as exc:
                problem = str(exc)
                self._step(request_id, "gates", "failed", attempt, problem)
                continue
            problem = await self._gate_problem(spec, cases, source)
            if not problem:
                self._step(
                    request_id, "gates", "done", attempt, f"{len(cases)} tests fail on a stub, as they must"
                )
                self._publish_code(request_id, "test_tool.py", source)
                return cases, source
            self._step(request_id, "gates", "failed", attempt, problem)
        raise SynthesisFailed("gates", f"no usable tests after {TEST_REWRITES + 1} tries: {problem}")

    async def _gate_problem(self, spec: ToolSpec, cases: list[TestCase], source: str) -> str:
        if len(cases) < MIN_TESTS:
            return f"only {len(cases)} usable cases, at least {MIN_TESTS} are needed"
        try:
            gate_tests(source)
        except GateError as exc:
            return str(exc)
        verdict = await self.sandbox.verify(stub_source(spec), source, spec.function_name)
        passing = [t.name for t in verdict.tests if t.outcome == "passed"]
        if passing:
            return f"vacuous: {', '.join(passing[:3])} passed against a stub that does nothing"
        if verdict.counts.collected != len(cases):
            return f"the sandbox ran {verdict.counts.collected} of {len(cases)} tests ({verdict.reason})"
        return ""

    def _publish_code(self, request_id: str, file: str, text: str, *, replace: bool = True) -> None:
        if self.bus is not None:
            self.bus.publish(CodeChunk(file=file, text=text, replace=replace, request_id=request_id))

    async def implement(
        self,
        spec: ToolSpec,
        tests: str,
        request_id: str,
        failure: str = "",
        previous: str = "",
        temperature: float = 0.0,
        show: bool = True,
    ) -> str:
        """Greedy by default (reproducible); the spec-only second opinion samples a little and is
        not shown (``show``), so the viewer only ever streams the candidate under test."""
        pieces: list[str] = []
        if show:
            self._publish_code(request_id, "tool.py", "")
        async for piece in self.llm.stream(
            prompts.implement_messages(spec, tests, failure, previous),
            purpose="implementation",
            request_id=request_id,
            max_tokens=1200,
            temperature=temperature,
        ):
            pieces.append(piece)
            if show:
                self._publish_code(request_id, "tool.py", piece, replace=False)
        code = extract_code("".join(pieces))
        if show:
            self._publish_code(request_id, "tool.py", code)
        return code

    async def _behaviour(self, source: str, spec: ToolSpec, args: dict[str, Any]) -> tuple[str, Any]:
        """What an implementation does on these arguments: ("value", v) or ("raises", ExceptionName)."""
        result = await self.sandbox.call(source, spec.function_name, args)
        if result.ok:
            return "value", result.value
        return ("raises", result.error_type) if result.error_type else ("crash", str(result.reason))

    async def _failures(
        self, spec: ToolSpec, cases: list[TestCase], tool: str, verdict: Verdict
    ) -> list[dict[str, Any]]:
        by_test = {f"test_{c.name}": c for c in cases}
        failures = []
        for outcome in verdict.failing:
            case = by_test.get(outcome.name)
            if case is None:
                failures.append(
                    {
                        "name": outcome.name,
                        "case": None,
                        "args": {},
                        "expected": "?",
                        "actual": outcome.message[:200],
                        "behaviour": None,
                    }
                )
                continue
            behaviour = await self._behaviour(tool, spec, case.args)
            shown = behaviour[1] if behaviour[0] == "value" else f"raised {behaviour[1]}"
            expected = f"raises {case.raises}" if case.raises else case.expected
            failures.append(
                {
                    "name": outcome.name,
                    "case": case,
                    "args": case.args,
                    "expected": expected,
                    "actual": shown,
                    "behaviour": behaviour,
                }
            )
        return failures

    async def _agreed_test_fixes(
        self, spec: ToolSpec, failures: list[dict[str, Any]], request_id: str
    ) -> dict[str, TestCase]:
        """Test name -> corrected case, only where an independent implementation, written from
        the spec alone (it never saw the tests), behaves exactly like the current one: two
        implementations against one test (CodeT's dual agreement). Where they disagree, the
        test stands and the implementation is repaired."""
        suspects = [
            f for f in failures if f["case"] is not None and f["behaviour"] and f["behaviour"][0] != "crash"
        ]
        if not suspects:
            return {}
        if request_id not in self._independent:
            self._independent[request_id] = await self.implement(
                spec, "", request_id, temperature=0.6, show=False
            )
        independent = self._independent[request_id]
        try:
            gate_tool(independent, spec.function_name)
        except GateError:
            self._independent.pop(request_id, None)
            return {}
        fixes: dict[str, TestCase] = {}
        for failure in suspects:
            kind, value = failure["behaviour"]
            if not same_behaviour(await self._behaviour(independent, spec, failure["args"]), (kind, value)):
                continue
            case: TestCase = failure["case"]
            if kind == "value":
                fixes[case.name] = case.model_copy(update={"expected": value, "raises": None})
            elif value in ALLOWED_EXCEPTIONS:
                fixes[case.name] = case.model_copy(update={"expected": None, "raises": value})
        if not fixes:
            # this second opinion agreed with no failing test: the next failure draws a new one
            # (a sampled implementation can be wrong too; one drawn once decides nothing more)
            self._independent.pop(request_id, None)
        return fixes

    # --- the whole flow ---------------------------------------------------------------

    async def synthesize(
        self, request: str, *, request_id: str = "", register: bool = True
    ) -> SynthesisResult:
        result = SynthesisResult(ok=False)
        self._independent.pop(request_id, None)
        try:
            self._step(request_id, "spec", "started")
            spec = result.spec = await self.make_spec(request, request_id)
            self._step(request_id, "spec", "done", detail=spec.signature())
            self._publish_code(request_id, "spec", spec.model_dump_json(indent=2))
            cases, tests = await self.gated_tests(spec, request_id)
            result.test_source = tests
            tool = ""
            failure = ""
            for attempt in range(1, self.settings.repair_attempts + 2):
                result.attempts = attempt
                step = "implementation" if attempt == 1 else "repair"
                self._step(request_id, step, "started", attempt)
                tool = await self.implement(spec, tests, request_id, failure, tool)
                try:
                    gate_tool(tool, spec.function_name)
                except GateError as exc:
                    failure = str(exc)
                    self._step(request_id, step, "failed", attempt, failure)
                    continue
                self._step(request_id, step, "done", attempt)
                verdict = await self._verify(tool, tests, spec, request_id, attempt, result)
                if verdict.passed:
                    break
                failures = await self._failures(spec, cases, tool, verdict)
                fixes = await self._agreed_test_fixes(spec, failures, request_id)
                if fixes:
                    cases = [fixes.get(c.name, c) for c in cases]
                    tests = result.test_source = render_tests(spec.function_name, cases)
                    result.test_fixes += sorted(fixes)
                    self._publish_code(request_id, "test_tool.py", tests)
                    if len(fixes) == len(failures):
                        # every failure was the tests' fault: the same code against the fixed tests
                        verdict = await self._verify(tool, tests, spec, request_id, attempt, result)
                        if verdict.passed:
                            break
                        failures = await self._failures(spec, cases, tool, verdict)
                    else:
                        failures = [f for f in failures if f["case"] is None or f["case"].name not in fixes]
                failure = (
                    "\n".join(
                        f"- {f['name']}: expected {f['expected']!r}, got {f['actual']!r}" for f in failures
                    )
                    or verdict.detail
                )
            if not result.ok:
                raise SynthesisFailed(
                    "verify", f"no implementation passed its tests after {result.attempts} attempts"
                )
            if register and self.registry is not None:
                self._step(request_id, "register", "started")
                result.record = await self._register(spec, result, request_id)
                self._step(
                    request_id, "register", "done", detail=f"{spec.function_name} v{result.record.version}"
                )
            return result
        except SynthesisFailed as exc:
            self._step(request_id, exc.step, "failed", result.attempts or 1, str(exc))
            result.reason = str(exc)
            return result
        except LLMError as exc:
            result.reason = f"the model could not help: {exc}"
            self._step(
                request_id,
                "spec" if result.spec is None else "implementation",
                "failed",
                result.attempts or 1,
                result.reason,
            )
            return result
        finally:
            self._independent.pop(request_id, None)

    async def _verify(
        self, tool: str, tests: str, spec: ToolSpec, request_id: str, attempt: int, result: SynthesisResult
    ) -> Verdict:
        self._step(request_id, "verify", "started", attempt)
        verdict = result.verdict = await self.sandbox.verify(
            tool, tests, spec.function_name, request_id=request_id
        )
        self._publish_verdict(request_id, spec.function_name, verdict)
        if verdict.passed:
            self._step(request_id, "verify", "done", attempt, verdict.detail)
            result.ok, result.tool_source = True, tool
        else:
            self._step(request_id, "verify", "failed", attempt, f"{verdict.reason}: {verdict.detail}")
        return verdict

    def _publish_verdict(self, request_id: str, name: str, verdict: Verdict) -> None:
        if self.bus is not None:
            self.bus.publish(verdict_event(name, verdict, request_id))

    async def _register(self, spec: ToolSpec, result: SynthesisResult, request_id: str) -> ToolRecord:
        import asyncio

        assert self.registry is not None and result.verdict is not None
        return await asyncio.to_thread(
            self.registry.add,
            spec.function_name,
            result.tool_source,
            result.test_source,
            spec.model_dump(),
            verdict=verdict_record(result.verdict),
            model=self.llm.model,
            request_id=request_id,
            approved=self.settings.approve_new_tools == "auto",
        )
