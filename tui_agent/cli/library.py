"""The tool library from the command line: list, show, search, history, remove, export, import,
test. Commands that only read the library open the store alone (no index, no model)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, CLIError, emit, settings_from
from tui_agent.core.config import Settings


def _sandbox_or_none(settings: Settings):  # type: ignore[no-untyped-def]
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox

    try:
        return make_sandbox(settings)
    except SandboxUnavailable as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return None


def _open_registry(settings: Settings, *, quiet: bool):  # type: ignore[no-untyped-def]
    from tui_agent.core.library.registry import Registry

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
    from tui_agent.core.library.store import ToolStore

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
    registry.set_verdict(args.name, verdict.to_record())
    if args.json:
        emit(verdict.to_dict(), True, "")
    else:
        print(verdict.output)
        state = "PASSED" if verdict.passed else f"FAILED ({verdict.reason}): {verdict.detail}"
        print(
            f"{args.name}: {state} — {verdict.counts.passed}/{verdict.counts.collected} tests in {verdict.duration_s:.2f}s on {verdict.backend}"
        )
    return EXIT_OK if verdict.passed else EXIT_FAIL


def register(tools: Any, command: Any) -> None:
    command(tools, "list", cmd_tools_list, "the tools with version, last verdict and usage")
    command(tools, "show", cmd_tools_show, "a tool's code, tests and record").add_argument("name")
    search = command(
        tools, "search", cmd_tools_search, "ranked candidates for a request, with scores and thresholds"
    )
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many candidates")
    command(tools, "history", cmd_tools_history, "every version of a tool").add_argument("name")
    command(tools, "remove", cmd_tools_remove, "remove a tool and all its versions").add_argument("name")
    export = command(
        tools, "export", cmd_tools_export, "write a tool's tool.py, test_tool.py and tool.json to a directory"
    )
    export.add_argument("name")
    export.add_argument("directory")
    command(
        tools, "import", cmd_tools_import, "verify (in the sandbox) and register a tool from a directory"
    ).add_argument("directory")
    command(
        tools, "test", cmd_tools_test, "rerun a tool's tests in the sandbox and record the verdict"
    ).add_argument("name")
