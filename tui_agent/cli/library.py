"""The tool library from the command line: list, show, search, history, remove, export, import,
test. Only `search` opens the index (embeddings, ChromaDB); the rest read and write the files,
which are the truth: the index catches up from them the next time it opens."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, CLIError, emit, settings_from
from tui_agent.core.config import Settings
from tui_agent.core.library.sharing import (
    export_tool,
    import_folder,
    import_starters,
    needs_starters,
    tool_cases,
)
from tui_agent.core.library.store import ToolStore
from tui_agent.core.tool.record import ToolRecord


def _sandbox_or_none(settings: Settings):  # type: ignore[no-untyped-def]
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox

    try:
        return make_sandbox(settings)
    except SandboxUnavailable as exc:
        print(f"selfeng-tui: {exc}", file=sys.stderr)
        return None


def open_store(settings: Settings, *, quiet: bool = False) -> ToolStore:
    """The library's files, with the starter tools brought in (and verified) on first use."""
    store = ToolStore(settings.tools_dir)
    if not quiet:
        for note in store.recovered:
            print(f"library: {note}", file=sys.stderr)
    if settings.import_starters and needs_starters(store):
        box = _sandbox_or_none(settings)
        try:
            imported = import_starters(store, box.verify_sync if box is not None else None)
        finally:
            if box is not None:
                box.close()
        if imported and not quiet:
            print(f"library: imported {len(imported)} starter tools", file=sys.stderr)
    return store


def open_registry(settings: Settings, *, quiet: bool):  # type: ignore[no-untyped-def]
    """The library with its search index (loads the embedding model and ChromaDB)."""
    from tui_agent.core.library.registry import Registry

    open_store(settings, quiet=quiet)
    registry = Registry(settings)
    report = registry.open(import_starters=False)
    if not quiet:
        if report.rebuilt:
            print(f"library: index rebuilt ({report.reason})", file=sys.stderr)
        elif report.changed:
            changes = f"+{len(report.added)} ~{len(report.updated)} -{len(report.dropped)}"
            print(f"library: index brought up to date ({changes})", file=sys.stderr)
    return registry


def verdict_word(record: ToolRecord) -> str:
    if record.verdict is None:
        return "unverified"
    return "passed" if record.verdict.get("passed") else f"failed ({record.verdict.get('reason')})"


def cmd_tools_list(args: argparse.Namespace) -> int:
    records, broken = open_store(settings_from(args), quiet=args.json).scan()
    if args.json:
        rows: list[dict[str, Any]] = [
            {
                "name": r.name,
                "version": r.version,
                "verdict": verdict_word(r),
                "usage_count": r.usage_count,
                "source": r.source,
                "approved": r.approved,
                "description": r.spec.get("description", ""),
            }
            for r in records
        ]
        rows += [{"name": name, "broken": reason} for name, reason in broken.items()]
        emit(sorted(rows, key=lambda row: row["name"]), True, "")
        return EXIT_OK
    if not records and not broken:
        print("the library is empty")
    width = max((len(n) for n in [*(r.name for r in records), *broken]), default=4)
    lines = {
        r.name: f"{r.name:<{width}}  v{r.version:<3} {verdict_word(r):<12} used {r.usage_count:>3}x  "
        f"{_marks(r)}{r.spec.get('description', '')}"
        for r in records
    }
    lines.update({name: f"{name:<{width}}  BROKEN: {reason}" for name, reason in broken.items()})
    for name in sorted(lines):
        print(lines[name])
    return EXIT_OK


def _marks(record: ToolRecord) -> str:
    origin = f"from {record.origin}, " if record.origin else ""
    return f"[{origin}not approved to run] " if not record.approved else f"[{origin[:-2]}] " if origin else ""


def cmd_tools_show(args: argparse.Namespace) -> int:
    tool = open_store(settings_from(args), quiet=True).load(args.name)
    if args.json:
        emit(
            {"record": tool.record.to_dict(), "tool_py": tool.tool_source, "test_tool_py": tool.test_source},
            True,
            "",
        )
        return EXIT_OK
    r = tool.record
    print(
        f"# {r.name} v{r.version}  ({verdict_word(r)}, {r.source}, created {r.created}, used {r.usage_count}x"
        f"{f', from {r.origin}' if r.origin else ''}"
        f"{'' if r.approved else ', NOT approved to run: tools approve, ask --yes or the dashboard approves it'})"
    )
    print(f"# {r.spec.get('description', '')}")
    if r.members:
        pinned = ", ".join(f"{m.get('name')} v{m.get('version')}" for m in r.members)
        print(f"# a composite of: {pinned} (each embedded at that version)")
    for unread in r.unread_tests:
        print(f"# not read as a case (so not part of the verdict): {unread}")
    for disputed in r.disputed:
        print(f"# set aside, disputed (so not part of the verdict): {disputed}")
    print("\n# --- tool.py ---")
    print(tool.tool_source)
    print("# --- test_tool.py ---")
    print(tool.test_source)
    return EXIT_OK


def cmd_tools_search(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    result = open_registry(settings, quiet=args.json).search(args.query, k=args.k)
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
    store = open_store(settings_from(args), quiet=True)
    records = store.history(args.name)
    if args.json:
        emit([r.to_dict() for r in records], True, "")
        return EXIT_OK
    current = records[-1].version if records else 0
    for r in records:
        cases = f"{len(r.cases)} cases" if r.cases else ""
        mark = "*" if r.version == current else " "
        print(
            f"{mark}v{r.version:<3} {r.created}  {verdict_word(r):<12} {(r.why or r.source)[:40]:<24} {cases:<9} "
            f"{'approved' if r.approved else 'not approved'}  {r.model}"
        )
    entries = store.journal.log(args.name) if store.journal is not None else []
    if entries:
        print("changes, newest first (the library's git log):")
    for entry in entries:
        print(f"  {entry.when}  {entry.commit[:10]}  {entry.message.splitlines()[0]}")
    return EXIT_OK


def cmd_tools_remove(args: argparse.Namespace) -> int:
    open_store(settings_from(args), quiet=True).remove(args.name)
    emit({"removed": args.name}, args.json, f"removed {args.name}")
    return EXIT_OK


def cmd_tools_export(args: argparse.Namespace) -> int:
    path = export_tool(open_store(settings_from(args), quiet=True), args.name, Path(args.directory))
    emit({"exported": args.name, "directory": str(path)}, args.json, f"exported {args.name} to {path}")
    return EXIT_OK


def cmd_tools_import(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    store = open_store(settings, quiet=args.json)
    box = _sandbox_or_none(settings)
    try:
        record = import_folder(
            store,
            Path(args.directory),
            verify=box.verify_sync if box else None,
            replace=args.replace,
            approved=args.yes,
        )
    finally:
        if box is not None:
            box.close()
    approval = (
        "" if record.approved else "; not approved to run until you say so (ask --yes, or the dashboard)"
    )
    unread = f"; {len(record.unread_tests)} tests not read as cases" if record.unread_tests else ""
    emit(
        record.to_dict(),
        args.json,
        f"imported {record.name} v{record.version} ({verdict_word(record)}, {len(record.cases)} cases{unread}){approval}",
    )
    return EXIT_OK


def cmd_tools_test(args: argparse.Namespace) -> int:
    from tui_agent.core.sandbox import SandboxUnavailable, make_sandbox

    settings = settings_from(args)
    store = open_store(settings, quiet=True)
    tool = store.load(args.name)
    try:
        box = make_sandbox(settings)
    except SandboxUnavailable as exc:
        raise CLIError(str(exc)) from None
    try:
        verdict = box.verify_sync(tool.tool_source, tool.record.function_name, tool_cases(tool))
    finally:
        box.close()
    store.update(args.name, verdict=verdict.to_record())
    if args.json:
        emit(verdict.to_dict(), True, "")
        return EXIT_OK if verdict.passed else EXIT_FAIL
    for test in verdict.tests:
        print(
            f"{'✓' if test.outcome == 'passed' else '✗'} {test.name}"
            + (f": {test.message}" if test.message else "")
        )
    state = "PASSED" if verdict.passed else f"FAILED ({verdict.reason}): {verdict.detail}"
    print(
        f"{args.name}: {state} — {verdict.counts.passed}/{verdict.counts.collected} cases in "
        f"{verdict.duration_s:.2f}s on {verdict.backend}, judged on the host"
    )
    return EXIT_OK if verdict.passed else EXIT_FAIL


def cmd_tools_revert(args: argparse.Namespace) -> int:
    """An older version made current again, as a new version (the history keeps every step)."""
    store = open_store(settings_from(args), quiet=True)
    old = store.load_version(args.name, args.version)
    current = store.record(args.name)
    if old.record.version == current.version:
        raise CLIError(f"{args.name} v{args.version} is already the current version")
    record = store.add_version(
        args.name,
        old.tool_source,
        old.test_source,
        old.record.spec,
        cases=old.record.cases,
        verdict=old.record.verdict,
        model=old.record.model,
        source=old.record.source,
        why=f"reverted to v{args.version}",
        approved=True,  # a person chose this version
        unread_tests=old.record.unread_tests,
    )
    emit(
        record.to_dict(),
        args.json,
        f"{args.name} v{record.version} is v{args.version} again ({verdict_word(record)})",
    )
    return EXIT_OK


def cmd_tools_stats(args: argparse.Namespace) -> int:
    records = open_store(settings_from(args), quiet=True).records()
    rows = [r.stats() for r in records]
    if args.json:
        emit(rows, True, "")
        return EXIT_OK
    width = max((len(r["name"]) for r in rows), default=4)
    print(f"{'tool':<{width}}  {'uses':>5} {'answers':>7} {'failures':>8} {'corrections':>11}  last used")
    for r in rows:
        print(
            f"{r['name']:<{width}}  {r['uses']:>5} {r['answers']:>7} {r['failures']:>8} {r['corrections']:>11}  {r['last_used'] or '-'}"
        )
    return EXIT_OK


def register(tools: Any, command: Any) -> None:
    command(tools, "list", cmd_tools_list, "the tools with version, last verdict and usage")
    command(tools, "show", cmd_tools_show, "a tool's code, tests and record").add_argument("name")
    search = command(
        tools, "search", cmd_tools_search, "ranked candidates for a request, with scores and thresholds"
    )
    search.add_argument("query")
    search.add_argument("-k", type=int, default=5, help="how many candidates")
    command(tools, "history", cmd_tools_history, "every version of a tool, and why it exists").add_argument(
        "name"
    )
    revert = command(
        tools, "revert", cmd_tools_revert, "make an older version current again (as a new version)"
    )
    revert.add_argument("name")
    revert.add_argument("version", type=int)
    command(tools, "stats", cmd_tools_stats, "each tool's record: uses, answers, failures, corrections")
    command(tools, "remove", cmd_tools_remove, "remove a tool and all its versions").add_argument("name")
    export = command(
        tools, "export", cmd_tools_export, "write a tool's tool.py, test_tool.py and tool.json to a directory"
    )
    export.add_argument("name")
    export.add_argument("directory")
    imported = command(
        tools, "import", cmd_tools_import, "verify (in the sandbox) and register a tool from a directory"
    )
    imported.add_argument("directory")
    imported.add_argument(
        "--replace", action="store_true", help="a tool of that name exists: make this its next version"
    )
    imported.add_argument(
        "--yes", action="store_true", help="approve it to run now (otherwise it waits for a person)"
    )
    command(
        tools, "test", cmd_tools_test, "rerun a tool's cases in the sandbox and record the verdict"
    ).add_argument("name")
