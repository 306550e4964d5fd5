"""Requests from the command line: `ask` answers one, `tools new` makes a tool without running it.
Both print the engine's events as they come (JSON lines with --json) up to the final one."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, EXIT_QUESTION, CLIError, emit, settings_from
from tui_agent.core.config import Settings
from tui_agent.core.flow.kinds import Choice, Ending
from tui_agent.core.flow.session import Session
from tui_agent.core.tool.cases import ALLOWED_EXCEPTIONS

SESSION_FILE = "session.json"

TERMINAL = {"answer", "question", "request_failed"}


def _printer(as_json: bool):  # type: ignore[no-untyped-def]
    """A bus handler: JSON lines up to the request's final event, or short progress lines."""
    from tui_agent.core.events import Event, SynthesisStep, to_json
    from tui_agent.wording import STEP_ICONS

    state = {"done": False}

    def show(event: Event) -> None:
        if state["done"]:
            return
        if as_json:
            print(to_json(event), flush=True)
        elif isinstance(event, SynthesisStep):
            attempt = f" (attempt {event.attempt})" if event.attempt > 1 else ""
            detail = f": {event.detail}" if event.detail and event.status != "started" else ""
            print(
                f"  {STEP_ICONS.get(event.status, '·')} {event.step}{attempt}{detail}",
                file=sys.stderr,
                flush=True,
            )
        elif event.type == "tool_chosen":
            verb = "reusing" if event.reused else "using the new tool"  # type: ignore[attr-defined]
            print(f"  → {verb} {event.name}", file=sys.stderr, flush=True)  # type: ignore[attr-defined]
        elif event.type == "follow_up":
            print(f"  ↪ read as: {event.rewritten}", file=sys.stderr, flush=True)  # type: ignore[attr-defined]
        state["done"] = event.type in TERMINAL

    return show


async def _run_request(settings: Settings, as_json: bool, work, *, print_events: bool = True):  # type: ignore[no-untyped-def]
    from tui_agent.core.sandbox import SandboxUnavailable
    from tui_agent.core.services import start_services

    try:
        services = await start_services(settings, warm_llm=True)
    except SandboxUnavailable as exc:
        raise CLIError(str(exc)) from None
    printer = (
        services.bus.subscribe(_printer(as_json), name="printer", maxsize=100_000) if print_events else None
    )
    try:
        return await work(services)
    finally:
        await services.bus.drain()
        if printer is not None:
            printer.close()  # what the shutdown says never follows the outcome line
        await services.aclose()


def cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    settings = settings_from(args)

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        services.orchestrator.consent.yes = args.yes
        services.orchestrator.repair_failures = args.repair
        services.orchestrator.executor.allowed_paths |= {
            Path(p).expanduser().resolve() for p in args.allow_path
        }
        kept = settings.home / SESSION_FILE  # the last headless session, for --continue
        session = Session.resumed(kept) if args.continue_session else Session(kept)
        outcome = await services.orchestrator.handle(args.request, session=session)
        await services.bus.drain()
        if not args.json:
            if outcome.kind == Ending.ANSWER:
                print(outcome.text)
            else:
                print(f"selfeng-tui: {outcome.text}", file=sys.stderr)
        return {"answer": EXIT_OK, "question": EXIT_QUESTION}.get(outcome.kind, EXIT_FAIL)

    return asyncio.run(_run_request(settings, args.json, work))


def cmd_tools_new(args: argparse.Namespace) -> int:
    import asyncio

    settings = settings_from(args)

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        result = await services.engine.synthesize(args.description)
        if result.existing and result.spec is not None:
            # asked for a new tool: one the library has under the drafted name is not reused
            result = await services.engine.synthesize(args.description, spec=result.spec)
        await services.bus.drain()
        if result.ok and result.record is not None:
            emit(
                result.record.to_dict(),
                args.json,
                f"registered {result.record.name} v{result.record.version} ({result.spec.signature() if result.spec else ''})",
            )
            return EXIT_OK
        print(f"selfeng-tui: {result.reason}", file=sys.stderr)
        return EXIT_FAIL

    return asyncio.run(_run_request(settings, args.json, work))


def cmd_tools_match(args: argparse.Namespace) -> int:
    """The decision the agent would take for a request, and why; nothing runs in the sandbox."""
    import asyncio

    settings = settings_from(args).model_copy(update={"sandbox_pool": 0})

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        from tui_agent.core.llm.client import LLMError

        try:
            decision = await services.orchestrator.decide(args.request)
        except LLMError as exc:
            raise CLIError(f"the model is not available: {exc}") from None
        await services.bus.drain()
        if args.json:
            emit(decision.to_dict(), True, "")
            return EXIT_OK
        search = decision.search
        print(
            f"thresholds: check at {search.candidate_threshold} and up (lexical weight {settings.lexical_weight})"
        )
        for c in search.candidates:
            print(
                f"  {c.score:6.3f} = dense {c.dense:5.3f} + lexical {c.lexical:5.3f}  {c.name:<26} {'verified' if c.verified else 'unverified'}"
            )
        grounding = decision.grounding
        if grounding is not None:
            worked = {
                "value": f"the request works out to {grounding.value!r} (a program written apart: {grounding.program.strip()[:80]!r})",
                "live": f"the request needs live data: {grounding.needs}",
                "personal": f"the request needs a value only you have: {grounding.needs}",
                "none": f"the request's answer could not be worked out apart: {grounding.why}",
            }[grounding.kind.value]
            print(f"  {worked}")
        for prepared in decision.checked:
            print(f"  checked {prepared.tool}: {prepared.kind} — {prepared.message or 'fits'}")
        args_text = (
            f" with {decision.prepared.args}"
            if decision.prepared and decision.decision == Choice.REUSE
            else ""
        )
        print(
            f"decision: {decision.decision}{' ' + decision.tool if decision.tool else ''}{args_text} — {decision.reason}"
        )
        return EXIT_OK

    return asyncio.run(_run_request(settings, True, work, print_events=False))


def _json_arg(text: str, what: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CLIError(f"{what} is not JSON ({exc.msg}): {text[:60]}") from None


def cmd_tools_fix(args: argparse.Namespace) -> int:
    """A person's correction: the right answer for these arguments. The tool is repaired into a
    new version when it does not already give it."""
    import asyncio

    call_args = _json_arg(args.args, "--args")
    if not isinstance(call_args, dict):
        raise CLIError("--args must be a JSON object of the tool's parameters")
    expected = None if args.raises else _json_arg(args.expected, "--expected")
    settings = settings_from(args)

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        outcome = await services.engine.correct(args.name, call_args, expected, raises=args.raises)
        await services.bus.drain()
        emit(outcome.to_dict(), args.json, outcome.message)
        return EXIT_OK if outcome.status in ("repaired", "unchanged") else EXIT_FAIL

    return asyncio.run(_run_request(settings, args.json, work))


def register(sub: Any, tools: Any, command: Any) -> None:
    ask = command(
        sub, "ask", cmd_ask, "answer one request headless (--json: one event per line, the last the answer)"
    )
    ask.add_argument("request")
    ask.add_argument(
        "--continue",
        dest="continue_session",
        action="store_true",
        help="follow up on the last exchange of the last ask ('and 26.2?'): the request is read in its context",
    )
    ask.add_argument(
        "--yes",
        action="store_true",
        help="run a newly made tool without asking (approve_new_tools = ask otherwise refuses it)",
    )
    ask.add_argument(
        "--allow-path",
        action="append",
        default=[],
        metavar="PATH",
        help="a file outside the working directory the request may give a tool (repeatable)",
    )
    ask.add_argument(
        "--repair",
        action="store_true",
        help="when a tool fails on this request, repair it (its input becomes a test) and answer again",
    )
    command(
        tools, "new", cmd_tools_new, "make, verify and register a tool from a description, without running it"
    ).add_argument("description")
    command(
        tools,
        "match",
        cmd_tools_match,
        "the decision for a request (reuse, make, ask or refuse) and why; candidates run in the sandbox, no use is recorded",
    ).add_argument("request")
    fix = command(
        tools,
        "fix",
        cmd_tools_fix,
        "correct a tool: for --args it should give --expected (or raise --raises); repaired into a new version",
    )
    fix.add_argument("name")
    fix.add_argument("--args", required=True, help="the arguments, as a JSON object: '{\"n\": 1}'")
    right = fix.add_mutually_exclusive_group(required=True)
    right.add_argument("--expected", help="the right result, as JSON: 120.0, false, '\"text\"'")
    right.add_argument("--raises", choices=ALLOWED_EXCEPTIONS, help="the exception it should raise instead")
