"""A library a team shares, from the command line: `library remote add`, `library remote list`,
`library status`, `library pull`, `library push`, and `tools approve` for what came in."""

from __future__ import annotations

import argparse
from typing import Any

from tui_agent.cli.library import _sandbox_or_none, open_store
from tui_agent.cli.options import EXIT_FAIL, EXIT_OK, CLIError, emit, settings_from
from tui_agent.core.library.folders import RegistryError
from tui_agent.core.library.git_journal import GitJournalError
from tui_agent.core.library.remotes import Remotes, State


def _remotes(args: argparse.Namespace, *, verify: bool = False) -> tuple[Remotes, Any]:
    settings = settings_from(args)
    store = open_store(settings, quiet=True)
    box = _sandbox_or_none(settings) if verify else None
    if verify and box is None:
        raise CLIError("what is pulled is verified in the sandbox first, and no sandbox is available")
    try:
        return Remotes(store, box.verify_sync if box is not None else None), box
    except RegistryError as exc:
        raise CLIError(str(exc)) from None


def _run(args: argparse.Namespace, job: str) -> int:
    remotes, box = _remotes(args, verify=job in {"pull", "push"})
    try:
        notes = getattr(remotes, job)(args.remote)
    except (RegistryError, GitJournalError) as exc:
        raise CLIError(str(exc)) from None
    finally:
        if box is not None:
            box.close()
    emit({"remote": args.remote, job: notes}, args.json, "\n".join(notes))
    return EXIT_OK


def cmd_pull(args: argparse.Namespace) -> int:
    return _run(args, "pull")


def cmd_push(args: argparse.Namespace) -> int:
    return _run(args, "push")


def cmd_status(args: argparse.Namespace) -> int:
    remotes, _ = _remotes(args)
    try:
        states = remotes.status(args.remote)
    except (RegistryError, GitJournalError) as exc:
        raise CLIError(str(exc)) from None
    if args.json:
        emit({name: str(state) for name, state in states.items()}, True, "")
        return EXIT_OK
    ahead = sum(s in {State.AHEAD, State.HERE_ONLY} for s in states.values())
    behind = sum(s in {State.BEHIND, State.THERE_ONLY, State.DIVERGED} for s in states.values())
    print(f"{args.remote}: {ahead} tools to push, {behind} to pull")
    for name, state in states.items():
        if state != State.SAME:
            print(f"  {name:<32} {state}")
    return EXIT_OK


def cmd_remote_add(args: argparse.Namespace) -> int:
    remotes, _ = _remotes(args)
    try:
        remotes.add(args.name, args.url)
    except (RegistryError, GitJournalError) as exc:
        raise CLIError(str(exc)) from None
    emit({"remote": args.name, "url": args.url}, args.json, f"added remote {args.name} ({args.url})")
    return EXIT_OK


def cmd_remote_list(args: argparse.Namespace) -> int:
    urls = _remotes(args)[0].urls()
    emit(urls, args.json, "\n".join(f"{name}  {url}" for name, url in urls.items()) or "no remotes")
    return EXIT_OK


def cmd_tools_approve(args: argparse.Namespace) -> int:
    """A person's yes for a tool that waits for one (made, repaired, imported or pulled)."""
    store = open_store(settings_from(args), quiet=True)
    record = store.record(args.name)
    if not record.verified:
        emit(record.to_dict(), args.json, f"{args.name} v{record.version} is not verified: it is never run")
        return EXIT_FAIL
    record = store.update(args.name, approved=True)
    emit(record.to_dict(), args.json, f"{args.name} v{record.version} is approved to run")
    return EXIT_OK


def register(sub: Any, tools: Any, command: Any) -> None:
    command(tools, "approve", cmd_tools_approve, "approve a verified tool to run").add_argument("name")
    library = sub.add_parser("library", help="share the library with a team through git").add_subparsers(
        dest="library_command", required=True, metavar="ACTION"
    )
    remote = library.add_parser("remote", help="the library's remotes").add_subparsers(
        dest="remote_command", required=True, metavar="ACTION"
    )
    add = command(remote, "add", cmd_remote_add, "add a remote: any URL git takes (a path, ssh, https)")
    add.add_argument("name")
    add.add_argument("url")
    command(remote, "list", cmd_remote_list, "the remotes and their URLs")
    for name, handler, text in (
        ("status", cmd_status, "which tools are newer here, which there"),
        ("pull", cmd_pull, "bring in the remote's tools, verified here and waiting for approval"),
        ("push", cmd_push, "publish the verified tools that are newer here (pulling first if needed)"),
    ):
        command(library, name, handler, text).add_argument("remote", nargs="?", default="origin")
