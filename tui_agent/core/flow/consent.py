"""A person's yes: to run a tool nobody has approved, and to give a tool a file outside the
working directory. With ``approve_new_tools = ask`` a tool nobody has approved runs only after
the ``approver`` (the dashboard's modal) or ``yes`` (the CLI's ``--yes``) says so; without either,
nothing unapproved runs, and the request says why in one line."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

from tui_agent.core.bus import EventBus
from tui_agent.core.events import ApprovalDecided, ApprovalRequested
from tui_agent.core.library.registry import Registry
from tui_agent.core.tool.record import Tool

Approver = Callable[[Tool], Awaitable[bool]]


class Consent:
    def __init__(self, registry: Registry, bus: EventBus, policy: str, allowed_paths: set[Path]) -> None:
        self.registry = registry
        self.bus = bus
        self.policy = policy  # approve_new_tools: ask | auto
        self.allowed_paths = allowed_paths  # shared with the executor's binder
        self.approver: Approver | None = None
        self.yes = False  # headless --yes: approved by the flag, nobody asked
        self.path_approver: Callable[[Path], Awaitable[bool]] | None = None  # the dashboard asks

    async def tool_may_run(self, tool: Tool, rid: str) -> str:
        """ "" when the tool may run, else why not (one line)."""
        if tool.record.approved:
            return ""
        name = tool.name
        if self.policy == "auto":
            by, yes = "auto", True
        elif self.yes:
            by, yes = "flag", True
        elif self.approver is None:
            by, yes = "nobody", False
        else:
            self.bus.publish(ApprovalRequested(name=name, version=tool.record.version, request_id=rid))
            by, yes = "user", await self.approver(tool)
        self.bus.publish(ApprovalDecided(name=name, approved=yes, by=by, request_id=rid))
        if yes:
            await asyncio.to_thread(self.registry.approve, name)
            return ""
        if by == "nobody":
            return (
                f"{name} is new and has not been approved to run: review it (selfeng-tui tools show "
                f"{name}), then ask again with --yes"
            )
        return f"You declined to run {name}; it stays in the library, unapproved, and was not run."

    async def paths_refused(self, outside: list[Path], to: str) -> str:
        """ "" when every file outside the working directory may be read (allowed by a flag or a
        person's yes), else why not, in one line."""
        for path in outside:
            if path in self.allowed_paths:
                continue
            if self.path_approver is not None and await self.path_approver(path):
                self.allowed_paths.add(path)
                continue
            return f"{path} is outside the working directory: not given to {to} (allow it with --allow-path {path})"
        return ""
