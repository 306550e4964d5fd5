"""A stand-in OpenAI-compatible server for tests: real HTTP on 127.0.0.1, scripted replies.

Tests talk to it through the real ``openai`` client, so every request and reply crosses the
same wire format as with a real endpoint. Replies come from a script (a queue) or a router
function that picks a reply from the request; every request body is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted answer. ``status`` != 200 sends an OpenAI-style error body; ``hang`` never
    answers; ``raw`` sends that body verbatim; ``delay`` waits before answering."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    hang: bool = False
    raw: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
    chunk_size: int = 8


Script = Reply | str
Router = Callable[[dict[str, Any]], Script | None]


def approx_tokens(text: str) -> int:
    """Words, not characters/4: differs from the client's own estimate, so a test can tell
    whether a count came from the server."""
    return max(1, len(text.split()))


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet test output
        pass

    def _send_json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/v1/models":
            self.server.fake.record("GET", self.path, {})
            self._send_json(
                200,
                {
                    "object": "list",
                    "data": [{"id": self.server.fake.model, "object": "model", "owned_by": "fake"}],
                },
            )
        else:
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        try:
            body = json.loads(self.rfile.read(length) or b"{}")
        except json.JSONDecodeError:
            self._send_json(400, {"error": {"message": "bad json", "type": "invalid_request_error"}})
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._send_json(404, {"error": {"message": "not found", "type": "invalid_request_error"}})
            return
        fake = self.server.fake
        fake.record("POST", self.path, body)
        reply = fake.next_reply(body)
        if reply.hang:
            fake.stopping.wait()
            return
        if reply.delay and fake.stopping.wait(reply.delay):
            return
        if reply.raw is not None:
            data = reply.raw.encode()
            self.send_response(reply.status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if reply.status != 200:
            self._send_json(
                reply.status,
                {"error": {"message": reply.content or f"scripted {reply.status}", "type": "server_error"}},
                reply.headers,
            )
            return
        prompt = "".join(str(m.get("content", "")) for m in body.get("messages", []))
        usage = {
            "prompt_tokens": approx_tokens(prompt),
            "completion_tokens": approx_tokens(reply.content),
            "total_tokens": approx_tokens(prompt) + approx_tokens(reply.content),
        }
        if body.get("stream"):
            self._stream(body, reply, usage)
        else:
            self._send_json(
                200,
                {
                    "id": "chatcmpl-fake",
                    "object": "chat.completion",
                    "created": int(time.time()),
                    "model": body.get("model", fake.model),
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": reply.content},
                            "finish_reason": "stop",
                        }
                    ],
                    "usage": usage,
                },
            )

    def _stream(self, body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

        def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> None:
            payload = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": body.get("model", self.server.fake.model),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]
                if delta is not None
                else [],
                **extra,
            }
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        text = reply.content
        chunk({"role": "assistant", "content": ""})
        for start in range(0, len(text), reply.chunk_size):
            chunk({"content": text[start : start + reply.chunk_size]})
        chunk({}, "stop")
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk(None, usage=usage)  # type: ignore[arg-type]
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    fake: FakeLLM


class FakeLLM:
    """``with FakeLLM(["hello"]) as llm: client = AsyncOpenAI(base_url=llm.base_url, ...)``."""

    def __init__(
        self, script: Iterable[Script] = (), *, router: Router | None = None, model: str = "fake-model"
    ) -> None:
        self.model = model
        self.router = router
        self._script: deque[Reply] = deque(self._as_reply(s) for s in script)
        self._lock = threading.Lock()
        self.requests: list[dict[str, Any]] = []
        self.stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @staticmethod
    def _as_reply(item: Script) -> Reply:
        return item if isinstance(item, Reply) else Reply(content=item)

    def push(self, *replies: Script) -> None:
        with self._lock:
            self._script.extend(self._as_reply(r) for r in replies)

    def record(self, method: str, path: str, body: dict[str, Any]) -> None:
        with self._lock:
            self.requests.append({"method": method, "path": path, "body": body})

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r["body"] for r in self.requests if r["method"] == "POST"]

    def next_reply(self, body: dict[str, Any]) -> Reply:
        if self.router is not None:
            routed = self.router(body)
            if routed is not None:
                return self._as_reply(routed)
        with self._lock:
            if self._script:
                return self._script.popleft()
        return Reply(status=500, content="fake LLM: script exhausted")

    @property
    def remaining(self) -> int:
        with self._lock:
            return len(self._script)

    def start(self) -> FakeLLM:
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.fake = self
        self._thread = threading.Thread(target=self._server.serve_forever, name="fake-llm", daemon=True)
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        assert self._server is not None, "FakeLLM not started"
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def stop(self) -> None:
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
