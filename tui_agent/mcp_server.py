"""The tool library served to other agents over the Model Context Protocol.

Every verified, approved tool becomes an MCP tool: its input schema comes from the spec, its
description from the docstring. Calls run in the sandbox, never in this process; a tool that
raises, loops or misbehaves comes back as an MCP tool error. The library is read from disk (no
embeddings, no model), so the server starts in a second and sees tools another process adds:
a poll notices the change and subscribers get a tools list-changed notification (on the
2026 wire through ``subscriptions/listen``, on the handshake wire as a session notification)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import sys
import weakref
from collections.abc import Callable
from typing import Any

import mcp_types as types
from mcp.server import NotificationOptions, Server
from mcp.server.subscriptions import InMemorySubscriptionBus, ListenHandler, ToolsListChanged
from mcp.shared.exceptions import MCPError
from mcp_types.version import MODERN_PROTOCOL_VERSIONS
from pydantic import ValidationError

from tui_agent import __version__
from tui_agent.core.config import Settings
from tui_agent.core.library.sharing import tool_cases
from tui_agent.core.library.store import ToolStore
from tui_agent.core.sandbox import Sandbox
from tui_agent.core.tool.record import Tool, ToolRecord, ToolStoreError
from tui_agent.core.tool.spec import ToolSpec, call_model, input_schema

POLL_SECONDS = 1.0


def exposed(record: ToolRecord) -> bool:
    """Only tools that passed their tests and that a person let run are offered to other agents."""
    return record.verified and record.approved


def mcp_tool(record: ToolRecord) -> types.Tool:
    spec = ToolSpec.model_validate(record.spec)
    description = spec.docstring.strip() or spec.description
    return types.Tool(name=record.name, description=description, input_schema=input_schema(spec))


def result_of(value: Any) -> types.CallToolResult:
    return types.CallToolResult(
        content=[types.TextContent(text=json.dumps(value, ensure_ascii=False))],
        structured_content={"result": value},
    )


def tool_error(message: str) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(text=message)], is_error=True)


class LibraryServer:
    def __init__(self, settings: Settings, sandbox: Sandbox) -> None:
        self.settings = settings
        self.sandbox = sandbox
        self.store = ToolStore(settings.tools_dir)
        self.bus = InMemorySubscriptionBus()
        # handshake-era clients, by connection (a ServerSession lives for one request; the SDK
        # keeps its connection private, so it is looked up defensively)
        self._legacy_sessions: weakref.WeakKeyDictionary[Any, Any] = weakref.WeakKeyDictionary()
        self.server: Server[Any] = Server(
            "selfeng-tui",
            version=__version__,
            instructions="Verified Python tools from a selfeng-tui library; every call runs in a sandbox.",
            on_list_tools=self._list_tools,
            on_call_tool=self._call_tool,
            on_subscriptions_listen=ListenHandler(self.bus),
        )

    def _records(self) -> list[ToolRecord]:
        return [r for r in self.store.records() if exposed(r)]

    def fingerprint(self) -> tuple[tuple[str, int, str], ...]:
        return tuple((r.name, r.version, r.content_hash) for r in self._records())

    async def _list_tools(
        self, ctx: Any, params: types.PaginatedRequestParams | None
    ) -> types.ListToolsResult:
        if ctx.protocol_version not in MODERN_PROTOCOL_VERSIONS:
            connection = getattr(ctx.session, "_connection", None)
            if connection is not None:
                self._legacy_sessions[connection] = ctx.session
        records = await asyncio.to_thread(self._records)
        tools = []
        for record in records:
            with contextlib.suppress(ValueError):  # a spec that no longer validates: not offered
                tools.append(mcp_tool(record))
        return types.ListToolsResult(tools=tools)

    async def _call_tool(self, ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        tool = await asyncio.to_thread(self._load, params.name)
        spec = ToolSpec.model_validate(tool.record.spec)
        try:
            args = call_model(spec).model_validate(params.arguments or {}).model_dump(by_alias=True)
        except ValidationError as exc:
            error = exc.errors()[0]
            where = ".".join(str(p) for p in error["loc"]) or "arguments"
            raise MCPError(types.INVALID_PARAMS, f"{params.name}: {where}: {error['msg']}") from None
        result = await self.sandbox.call(tool.tool_source, spec.function_name, args, checks=tool_cases(tool))
        if not result.ok:
            return tool_error(f"{params.name} failed ({result.reason}): {result.error}")
        return result_of(result.value)

    def _load(self, name: str) -> Tool:
        try:
            tool = self.store.load(name)
        except ToolStoreError as exc:
            raise MCPError(types.INVALID_PARAMS, f"unknown tool {name!r}: {exc}") from None
        if not exposed(tool.record):
            raise MCPError(types.INVALID_PARAMS, f"{name} is not verified and approved, so it is not offered")
        return tool

    async def watch(self, interval: float = POLL_SECONDS) -> None:
        """Poll the library; on a change, tell every subscriber the tool list changed."""
        seen = await asyncio.to_thread(self.fingerprint)
        while True:
            await asyncio.sleep(interval)
            try:
                now = await asyncio.to_thread(self.fingerprint)
            except OSError:  # the library folder moved or went away: keep serving, look again
                continue
            if now == seen:
                continue
            seen = now
            await self.bus.publish(ToolsListChanged())
            for session in list(self._legacy_sessions.values()):
                with contextlib.suppress(Exception):  # a client that went away
                    await session.send_tool_list_changed()

    def init_options(self):  # type: ignore[no-untyped-def]
        return self.server.create_initialization_options(NotificationOptions(tools_changed=True))

    async def serve_stdio(self) -> None:
        from mcp.server.stdio import stdio_server

        async with stdio_server() as (read, write):
            await _with_watch(self, lambda: self.server.run(read, write, self.init_options()))

    async def serve_http(self, host: str, port: int, announce: Callable[[str], None]) -> None:
        import uvicorn

        app = self.server.streamable_http_app(host=host)
        config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on")
        server = uvicorn.Server(config)

        async def run() -> None:
            task = asyncio.create_task(server.serve())
            while not server.started and not task.done():
                await asyncio.sleep(0.05)
            if server.started:
                bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else port
                announce(f"http://{_url_host(host)}:{bound}/mcp")
            await task

        await _with_watch(self, run)


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _with_watch(library: LibraryServer, serve: Callable[[], Any]) -> None:
    watcher = asyncio.create_task(library.watch())
    try:
        await serve()
    finally:
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher


async def run_server(settings: Settings, transport: str, host: str, port: int) -> None:
    from tui_agent.core.sandbox import make_sandbox

    sandbox = await asyncio.to_thread(make_sandbox, settings)
    library = LibraryServer(settings, sandbox)
    try:
        if transport == "stdio":
            await library.serve_stdio()
        else:
            await library.serve_http(
                host, port, lambda url: print(f"MCP server at {url}", file=sys.stderr, flush=True)
            )
    finally:
        await asyncio.to_thread(sandbox.close)
