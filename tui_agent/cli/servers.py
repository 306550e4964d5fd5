"""Long-running front ends: the dashboard, the MCP server and the dashboard in a browser."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from tui_agent.cli.options import EXIT_OK, CLIError, overrides, settings_from


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
    for key, value in overrides(args).items():  # the per-browser dashboards inherit them
        os.environ[f"SELFENG_{key.upper()}"] = str(value)
    command = shlex.join([sys.executable, "-m", "tui_agent"])
    server = Server(command, host=args.host, port=args.port, title="selfeng-tui")
    print(f"selfeng-tui: the dashboard is at {server.public_url}", flush=True)
    server.serve()
    return EXIT_OK


def register(sub: Any, command: Any) -> None:
    mcp = command(sub, "mcp", cmd_mcp, "serve the verified tools to other agents over MCP (stdio by default)")
    mcp.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP address (loopback unless --public)")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP port (0: any free port)")
    mcp.add_argument("--public", action="store_true", help="allow a non-loopback --host")
    serve = command(sub, "serve", cmd_serve, "the dashboard in a browser, through textual-serve")
    serve.add_argument("--host", default="127.0.0.1", help="address (loopback unless --public)")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--public", action="store_true", help="allow a non-loopback --host")
