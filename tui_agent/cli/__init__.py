"""The `selfeng-tui` command: the dashboard with no arguments, headless sub-commands otherwise.

Every sub-command is a thin view over `core`; errors print one line on stderr and set a
non-zero exit code, never a traceback. One module per family of commands: `requests`,
`library`, `team`, `servers`, `maintenance`; `options` holds what they share."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from tui_agent import __version__
from tui_agent.cli import library, maintenance, requests, servers, team
from tui_agent.cli.options import EXIT_FAIL, EXIT_USAGE, CLIError, add_common
from tui_agent.core.config import ConfigError
from tui_agent.core.tool.record import ToolStoreError

Handler = Callable[[argparse.Namespace], int]


def _command(sub: Any, name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
    parser = sub.add_parser(name, help=help_text, description=help_text)
    parser.set_defaults(handler=handler)
    return add_common(parser)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="selfeng-tui",
        description="A self-engineering agent: reuses or writes verified tools, live in the terminal.",
    )
    parser.add_argument("--version", action="version", version=f"selfeng-tui {__version__}")
    add_common(parser, top=True)
    parser.set_defaults(handler=servers.cmd_dashboard)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    tools = sub.add_parser("tools", help="the tool library").add_subparsers(
        dest="tools_command", required=True, metavar="ACTION"
    )
    requests.register(sub, tools, _command)
    library.register(tools, _command)
    team.register(sub, tools, _command)
    servers.register(sub, _command)
    maintenance.register(sub, _command)
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
