"""Evidence by execution: what a request works out to, computed apart from any tool.

The model, with no tool in view, writes the answer as a few lines of Python from the request's
own values (``answer = 30 / 120 * 100``); the program runs in the sandbox like any tool, and its
value is what a found tool must agree with before its result is the answer. A tool that runs the
other way, or stops a step short, gives another value and does not answer. The same call says
when the request cannot be computed here: it needs live data (``LIVE:``), or a value only the
person has (``ASK:``). When no program can be had, the grounding is NONE and the decision falls
back to the checks that need no wording. The host gives the program today's date; the sandbox
has no clock it could trust."""

from __future__ import annotations

import ast
import datetime as dt
import re
import textwrap
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from tui_agent.core.flow.other_values import other_call, program_on
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient, LLMError
from tui_agent.core.request.reading import read
from tui_agent.core.request.values import grounded
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.sandbox.static_gate import GateError, gate_tool
from tui_agent.core.synthesis.code import (
    extract_code,
    standard_home,
    unbound_names,
    with_module_imports,
    with_name_imports,
)
from tui_agent.core.synthesis.computed import Anchor
from tui_agent.core.tool.cases import agrees

__all__ = [
    "Grounder",
    "Grounding",
    "Kind",
    "agrees",
    "anchored",
    "program_source",
    "read_reply",
]

ENTRY = "selfeng_answer"
MARKER = re.compile(r"^\s*(LIVE|ASK)\s*:\s*(.+?)\s*$", re.MULTILINE)
MAX_TOKENS = 200
SECOND_DRAW = 0.7  # the temperature of a second, independent program, when the first is disputed
SECOND_SEED = 7  # and its seed: the same request is settled the same way on every run
WRAPPER = """import datetime as _selfeng_dt


def _selfeng_plain(value):
    if isinstance(value, _selfeng_dt.timedelta) and not (value.seconds or value.microseconds):
        return value.days  # a span of whole days is its count of days
    if isinstance(value, (_selfeng_dt.date, _selfeng_dt.datetime, _selfeng_dt.time)):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    if isinstance(value, tuple):
        return [_selfeng_plain(v) for v in value]
    if isinstance(value, list):
        return [_selfeng_plain(v) for v in value]
    if type(value).__name__ in ("Fraction", "Decimal"):
        return float(value)
    return value


def {entry}(today):
    today = _selfeng_dt.date.fromisoformat(today)
{body}
    return _selfeng_plain(answer)
"""


INVENTED = "This depends on values you have not given me: which values should I use?"


def unknowns_question(names: list[str]) -> str:
    """The question for the values a program reads and nothing gives (``birth_year``)."""
    shown = ", ".join(name.replace("_", " ").strip() for name in names)
    return f"This depends on values you have not given me ({shown}): what are they?"


def _tree(program: str) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(program))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None


def asks_the_person(program: str) -> str | None:
    """The question a program puts to the person (it calls ``input``), if it does."""
    tree = _tree(program)
    for node in ast.walk(tree) if tree is not None else ():
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "input":
            prompt = node.args[0] if node.args else None
            text = prompt.value if isinstance(prompt, ast.Constant) else ""
            return str(text).strip() or INVENTED
    return None


def draws_on(program: str, request: str) -> bool:
    """Whether the program reads anything the request gives (a number it writes, a text it
    says) or the host supplies (``today``): evidence computed from nothing given is no evidence."""
    tree = _tree(program)
    if tree is None:
        return True  # it will not run: the run says why
    lowered = request.lower()
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "today":
            return True
        if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
            value = node.value
            if isinstance(value, int | float) and grounded(value, request):
                return True
            if isinstance(value, str) and len(value.strip()) >= 2 and value.strip().lower() in lowered:
                return True
    return False


def request_gives_values(request: str) -> bool:
    reading = read(request)
    return bool(reading.numbers or reading.quoted or reading.dates)


class Kind(StrEnum):
    VALUE = "value"  # the request works out to ``value``
    LIVE = "live"  # it needs live data nobody here can fetch
    PERSONAL = "personal"  # it needs a value only the person has
    NONE = "none"  # no program could be had, or it did not run


@dataclass(frozen=True)
class Grounding:
    kind: Kind
    value: Any = None
    program: str = ""
    needs: str = ""  # LIVE: what is needed; PERSONAL: the question to ask
    why: str = ""  # NONE: why there is no value

    @property
    def self_contained(self) -> bool:
        """The model took the request as computable from what it gives (it wrote a program, not
        a question), whether or not that program ran."""
        return self.kind == Kind.VALUE or (self.kind == Kind.NONE and bool(self.program))

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "value": self.value, "program": self.program, "needs": self.needs}


def anchored(grounding: Grounding | None, anchor: Anchor) -> Grounding | None:
    """The grounding after a second program sided with a spec's example (:class:`Anchor`)."""
    if grounding is None or not anchor.changed:
        return grounding
    return Grounding(Kind.VALUE, value=anchor.value, program=grounding.program)


def program_source(program: str) -> str:
    """The model's lines as a function the sandbox runner can call with today's date."""
    body = textwrap.indent(textwrap.dedent(program).strip() or "answer = None", "    ")
    source = WRAPPER.format(entry=ENTRY, body=body)
    return with_name_imports(with_module_imports(source))  # a forgotten import is a slip


def read_reply(reply: str) -> tuple[Kind, str]:
    """(LIVE | PERSONAL, what) for a marker line, else (VALUE, the program) or (NONE, why)."""
    code = extract_code(reply) if "```" in reply else ""
    marker = MARKER.search(reply if not code else reply.split("```")[0])
    if marker is not None:
        return (Kind.LIVE if marker.group(1) == "LIVE" else Kind.PERSONAL), marker.group(2)
    if not code.strip():
        code = reply.strip() if re.search(r"^\s*answer\s*=", reply, re.MULTILINE) else ""
    if not re.search(r"\banswer\s*=", code):
        return Kind.NONE, "the model wrote no program that sets answer"
    return Kind.VALUE, code


class Grounder:
    def __init__(self, llm: LLMClient, sandbox: Sandbox) -> None:
        self.llm = llm
        self.sandbox = sandbox

    async def ground(
        self, request: str, *, request_id: str = "", today: dt.date | None = None, second: bool = False
    ) -> Grounding:
        """One model call and, for a program, one sandbox run. Never raises for what the model
        writes; a model that is not there gives NONE. Greedy, unless a ``second``, independent
        draw is wanted: sampled, with a fixed seed."""
        try:
            reply = await self.llm.complete(
                prompts.ground_messages(request),
                purpose="grounding",
                request_id=request_id,
                temperature=SECOND_DRAW if second else 0.0,
                max_tokens=MAX_TOKENS,
                stop=prompts.AFTER_CODE,
                seed=SECOND_SEED if second else None,
            )
        except LLMError as exc:
            return Grounding(Kind.NONE, why=f"the model could not be asked ({exc})")
        kind, text = read_reply(reply)
        if kind in (Kind.LIVE, Kind.PERSONAL):
            return Grounding(kind, needs=text[:300])
        if kind == Kind.NONE:
            return Grounding(Kind.NONE, why=text)
        asked = asks_the_person(text)
        if asked is not None:
            return Grounding(Kind.PERSONAL, program=text, needs=asked)
        names = unbound_names(textwrap.dedent(text), frozenset({"today"}))
        unknowns = [name for name in names if standard_home(name) is None]
        if unknowns:  # it reads values nobody gave it (``birth_year``): the person has them
            return Grounding(Kind.PERSONAL, program=text, needs=unknowns_question(unknowns))
        if not draws_on(text, request):
            if not request_gives_values(request):
                # nothing given, nothing read: the program's values are its own inventions
                return Grounding(Kind.PERSONAL, program=text, needs=INVENTED)
            return Grounding(Kind.NONE, program=text, why="the program uses none of the request's values")
        return await self.run(text, today or dt.date.today(), request_id)

    async def elsewhere(
        self,
        program: str,
        call: dict[str, Any],
        texts: tuple[str, ...] = (),
        request_id: str = "",
        *,
        strict: bool = False,
    ) -> tuple[dict[str, Any], Any] | None:
        """The call on other values (:mod:`other_values`; the quoted ``texts`` move too) and what
        the request's own program gives there, or None when there is no such point."""
        other = other_call(call, texts)
        moved = program_on(program, call, other, strict=strict)
        if moved is None:
            return None
        worked = await self.run(moved, dt.date.today(), request_id)
        return (other, worked.value) if worked.kind == Kind.VALUE else None

    async def second(self, request: str, request_id: str = "") -> Any:
        """Another program's value for the request, drawn apart from the first; None without one."""
        again = await self.ground(request, request_id=request_id, second=True)
        return again.value if again.kind == Kind.VALUE else None

    async def run(self, program: str, today: dt.date, request_id: str = "") -> Grounding:
        source = program_source(program)
        try:
            gate_tool(source, ENTRY)
        except GateError as exc:
            return Grounding(Kind.NONE, program=program, why=f"the program was refused: {exc}")
        run = await self.sandbox.run_cases(
            source, ENTRY, [{"today": today.isoformat()}], request_id=request_id
        )
        outcome = run.outcomes[0] if run.outcomes else None
        if run.reason is not None or outcome is None or outcome.kind != "value":
            shown = outcome.shown() if outcome is not None else "nothing"
            return Grounding(
                Kind.NONE, program=program, why=f"the program did not compute: {run.detail or shown}"
            )
        if outcome.value is None:
            return Grounding(Kind.NONE, program=program, why="the program's answer is None")
        return Grounding(Kind.VALUE, value=outcome.value, program=program)
