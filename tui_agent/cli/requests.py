"""Requests from the command line: `ask` answers one, `tools new` makes a tool without running it.
Both print the engine's events as they come (JSON lines with --json) up to the final one."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, EXIT_QUESTION, CLIError, emit, settings_from
from tui_agent.core.config import Settings

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
        state["done"] = event.type in TERMINAL

    return show


async def _run_request(settings: Settings, as_json: bool, work):  # type: ignore[no-untyped-def]
    from tui_agent.core.sandbox import SandboxUnavailable
    from tui_agent.core.services import start_services

    try:
        services = await start_services(settings)
    except SandboxUnavailable as exc:
        raise CLIError(str(exc)) from None
    services.bus.subscribe(_printer(as_json), name="printer", maxsize=100_000)
    try:
        return await work(services)
    finally:
        await services.bus.drain()
        await services.aclose()


def cmd_ask(args: argparse.Namespace) -> int:
    import asyncio

    settings = settings_from(args)

    async def work(services) -> int:  # type: ignore[no-untyped-def]
        services.orchestrator.yes = args.yes
        outcome = await services.orchestrator.handle(args.request)
        await services.bus.drain()
        if not args.json:
            if outcome.kind == "answer":
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


def register(sub: Any, tools: Any, command: Any) -> None:
    ask = command(
        sub, "ask", cmd_ask, "answer one request headless (--json: one event per line, the last the answer)"
    )
    ask.add_argument("request")
    ask.add_argument(
        "--yes",
        action="store_true",
        help="run a newly made tool without asking (approve_new_tools = ask otherwise refuses it)",
    )
    command(
        tools, "new", cmd_tools_new, "make, verify and register a tool from a description, without running it"
    ).add_argument("description")
