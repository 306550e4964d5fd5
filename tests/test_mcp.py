"""`selfeng-tui mcp`, spoken to by the mcp SDK's own client over stdio and over HTTP: the
library's verified, approved tools listed with their schemas, called in the sandbox, a hostile
call returned as an MCP error, and a tool added by another process announced as a list change."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from mcp import Client, MCPError, StdioServerParameters

from tui_agent.core.config import Settings, load_settings
from tui_agent.core.library.sharing import STARTER_DIR, read_tool_dir
from tui_agent.core.library.store import ToolStore
from tui_agent.core.sandbox import make_sandbox
from tui_agent.core.tool.read_tests import read_tests

pytestmark = pytest.mark.docker
EXE = str(Path(sys.executable).parent / "selfeng-tui")

SPIN = "def spin(n: int) -> int:\n    if n == 0:\n        return 0\n    while True:\n        pass\n"
SPIN_TESTS = "from tool import spin\n\n\ndef test_zero():\n    assert spin(0) == 0\n"
SPIN_SPEC = {
    "function_name": "spin",
    "description": "Returns 0 for 0; any other number never returns.",
    "parameters": [{"name": "n", "type": "int", "description": "a number"}],
    "return_type": "int",
}


def add(
    store: ToolStore, settings: Settings, source: str, tests: str, spec: dict[str, Any], **kw: Any
) -> None:
    """Register a tool with the verdict the real sandbox gives it."""
    name = spec["function_name"]
    cases = read_tests(tests, name, [p["name"] for p in spec["parameters"]]).cases
    sandbox = make_sandbox(settings)
    try:
        verdict = sandbox.verify_sync(source, name, cases)
    finally:
        sandbox.close()
    store.create(
        name, source, tests, spec, cases=[c.model_dump() for c in cases], verdict=verdict.to_record(), **kw
    )


def add_starter(store: ToolStore, settings: Settings, name: str, **kw: Any) -> None:
    folder = read_tool_dir(STARTER_DIR / name)
    add(store, settings, folder.tool_source, folder.test_source, folder.spec.model_dump(), **kw)


@pytest.fixture
def library(isolated_env: Path) -> Iterator[tuple[ToolStore, Settings]]:
    settings = load_settings(sandbox_pool=0, sandbox_timeout=3)
    store = ToolStore(settings.tools_dir)
    add_starter(store, settings, "percentage_of")
    add_starter(store, settings, "reverse_string", approved=False)  # nobody said yes: not offered
    add(store, settings, SPIN, SPIN_TESTS, SPIN_SPEC)
    broken = SPIN.replace("return 0", "return 1")
    add(
        store,
        settings,
        broken,
        SPIN_TESTS.replace("spin", "spin_broken"),
        {**SPIN_SPEC, "function_name": "spin_broken"},
    )
    assert not store.record("spin_broken").verified
    yield store, settings


def server_env() -> dict[str, str]:
    return {**os.environ, "SELFENG_SANDBOX_POOL": "0", "SELFENG_SANDBOX_TIMEOUT": "3"}


async def exercise(client: Client, store: ToolStore, settings: Settings) -> None:
    listed = {t.name: t for t in (await client.list_tools()).tools}
    assert sorted(listed) == ["percentage_of", "spin"]  # unverified and unapproved ones left out
    schema = listed["percentage_of"].input_schema
    assert schema["properties"]["value"]["type"] == "number" and schema["required"] == ["value", "percent"]
    assert listed["percentage_of"].description

    result = await client.call_tool("percentage_of", {"value": 300, "percent": 15})
    assert not result.is_error and result.structured_content == {"result": 45.0}

    hostile = await client.call_tool("spin", {"n": 1})
    assert hostile.is_error and "TIMEOUT" in hostile.content[0].text
    with pytest.raises(MCPError, match="percent"):
        await client.call_tool("percentage_of", {"value": 300})
    with pytest.raises(MCPError, match="unknown tool"):
        await client.call_tool("no_such_tool", {})

    async with client.listen(tools_list_changed=True) as changes:
        await asyncio.to_thread(add_starter, store, settings, "is_prime")
        async with asyncio.timeout(30):
            await anext(aiter(changes))
    after = {t.name for t in (await client.list_tools()).tools}
    assert "is_prime" in after
    prime = await client.call_tool("is_prime", {"n": 97})
    assert prime.structured_content == {"result": True}


async def test_stdio(library: tuple[ToolStore, Settings]) -> None:
    store, settings = library
    params = StdioServerParameters(command=EXE, args=["mcp"], env=server_env())
    async with Client(params, read_timeout_seconds=60) as client:
        await exercise(client, store, settings)


@pytest.fixture
async def http_server(library: tuple[ToolStore, Settings]) -> AsyncIterator[str]:
    process = await asyncio.create_subprocess_exec(
        EXE, "mcp", "--transport", "http", "--port", "0", env=server_env(), stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    try:
        async with asyncio.timeout(60):
            while True:
                line = (await process.stderr.readline()).decode()
                assert line, "the server exited before it printed its address"
                found = re.search(r"MCP server at (http://127\.0\.0\.1:\d+/mcp)", line)
                if found:
                    break
        yield found.group(1)
    finally:
        process.terminate()
        await process.wait()


async def test_http(http_server: str, library: tuple[ToolStore, Settings]) -> None:
    store, settings = library
    async with Client(http_server, read_timeout_seconds=60) as client:
        await exercise(client, store, settings)


def test_a_public_bind_needs_the_flag(isolated_env: Path) -> None:
    result = subprocess.run(
        [EXE, "mcp", "--transport", "http", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 1 and "add --public" in result.stderr.strip().splitlines()[-1]


async def test_a_handshake_era_client_is_told_too(library: tuple[ToolStore, Settings]) -> None:
    """Desktop agents of 2025 speak the initialize handshake: they get the notification on their session."""
    store, settings = library
    changed = asyncio.Event()

    async def on_message(message: Any) -> None:
        if getattr(message, "method", "") == "notifications/tools/list_changed":
            changed.set()

    params = StdioServerParameters(command=EXE, args=["mcp"], env=server_env())
    async with Client(params, mode="legacy", message_handler=on_message, read_timeout_seconds=60) as client:
        assert client.server_capabilities.tools and client.server_capabilities.tools.list_changed
        assert "is_prime" not in {t.name for t in (await client.list_tools()).tools}
        await asyncio.to_thread(add_starter, store, settings, "is_prime")
        async with asyncio.timeout(30):
            await changed.wait()
        assert "is_prime" in {t.name for t in (await client.list_tools()).tools}
