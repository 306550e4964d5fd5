"""`selfeng-tui serve`: the dashboard in a browser. Headless Chromium (Debian's `chromium`) loads
the page, and the dashboard's query box reaches it; a screenshot is kept as a test artifact.
Chromium resolves no host but 127.0.0.1, so the page's web-font link goes nowhere."""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.scripted_model import ScriptedModel

EXE = str(Path(sys.executable).parent / "selfeng-tui")
ARTIFACTS = Path(
    os.environ.get("SELFENG_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
QUERY_BOX = "Ask for anything a small tool can compute"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

# Every frame the page's WebSocket receives, as text: the terminal itself draws on a canvas.
RECORD_FRAMES = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__frames = "";
  const keep = (bytes) => { window.__frames += decoder.decode(bytes); };
  function Recording(url, protocols) {
    const ws = protocols === undefined ? new Native(url) : new Native(url, protocols);
    ws.addEventListener("message", (event) => {
      const data = event.data;
      if (typeof data === "string") window.__frames += data;
      else if (data instanceof ArrayBuffer) keep(new Uint8Array(data));
      else if (data instanceof Blob) data.arrayBuffer().then((b) => keep(new Uint8Array(b)));
    });
    return ws;
  }
  Recording.prototype = Native.prototype;
  Object.assign(Recording, { CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3 });
  window.WebSocket = Recording;
})();
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def served(isolated_env: Path) -> Iterator[str]:
    with ScriptedModel() as model:
        port = free_port()
        env = {**os.environ, "SELFENG_LLM_BASE_URL": model.base_url, "SELFENG_LLM_MODEL": "fake-model"}
        process = subprocess.Popen(
            [EXE, "serve", "--port", str(port)],
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            start_new_session=True,
        )
        try:
            assert process.stdout is not None
            line = process.stdout.readline()
            assert f"the dashboard is at http://127.0.0.1:{port}" in line, line
            for _ in range(200):
                with socket.socket() as client:
                    if client.connect_ex(("127.0.0.1", port)) == 0:
                        break
                asyncio.run(asyncio.sleep(0.05))
            yield f"http://127.0.0.1:{port}"
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


class DevTools:
    """Just enough of the Chrome DevTools Protocol: numbered commands over one WebSocket."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.ids = itertools.count(1)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        number = next(self.ids)
        await self.ws.send_json({"id": number, "method": method, "params": params})
        async for message in self.ws:
            data = json.loads(message.data)
            if data.get("id") == number:
                assert "error" not in data, data
                return data.get("result", {})
        raise AssertionError("DevTools connection closed")


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[DevTools]:
    assert CHROMIUM, "chromium is not installed: run ./scripts/setup.sh"
    profile = tmp_path / "chromium-profile"
    process = await asyncio.create_subprocess_exec(
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--no-first-run",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
        "--window-size=1280,800",
        "--remote-debugging-port=0",
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        port_file = profile / "DevToolsActivePort"
        async with asyncio.timeout(60):
            while not port_file.exists() or not port_file.read_text().strip():
                await asyncio.sleep(0.1)
        port = port_file.read_text().split()[0]
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{port}/json/list") as listing:
                pages = [p for p in await listing.json() if p["type"] == "page"]
            async with http.ws_connect(pages[0]["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield DevTools(ws)
    finally:
        process.kill()
        await process.wait()


async def test_the_dashboard_opens_in_a_browser(served: str, browser: DevTools) -> None:
    await browser.send("Page.enable")
    await browser.send("Page.addScriptToEvaluateOnNewDocument", source=RECORD_FRAMES)
    await browser.send("Page.navigate", url=served)
    frames = ""
    async with asyncio.timeout(90):
        while QUERY_BOX not in frames:
            await asyncio.sleep(0.5)
            got = await browser.send("Runtime.evaluate", expression="window.__frames || ''")
            frames = got["result"].get("value", "")
    await asyncio.sleep(1.0)  # let the terminal paint what it received
    shot = await browser.send("Page.captureScreenshot", format="png")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "serve-dashboard.png").write_bytes(base64.b64decode(shot["data"]))


def test_a_public_bind_needs_the_flag(isolated_env: Path) -> None:
    result = subprocess.run([EXE, "serve", "--host", "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "add --public" in result.stderr.strip().splitlines()[-1]
