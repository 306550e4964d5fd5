"""The embedded default LLM: llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

Started on first need on a free port, health-checked on ``/v1/models``, stopped with the app;
launched through a :class:`Lifeline` so it dies with us even when we are SIGKILLed. The same
``llm.py`` client talks to it as to any other endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import os
import socket
import subprocess
import sys
import time

import httpx

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import ComponentState
from tui_agent.core.lifeline import Lifeline
from tui_agent.core.llm.model_files import ModelFileError, local_model_file

MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"


class LocalModelError(ModelFileError):
    """The local model cannot be served; the message says what to run."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalModelServer:
    """One llama.cpp server per app. ``await ensure_started()`` returns its base URL."""

    def __init__(self, settings: Settings, bus: EventBus | None = None) -> None:
        self.settings = settings
        self.bus = bus
        self.model_path = local_model_file(settings)
        self.state = "stopped"
        self.base_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._lifeline: Lifeline | None = None
        self._lock = asyncio.Lock()
        self._closed = False  # stopped: a start still loading gives up
        self.log_path = settings.home / "logs" / "local-model.log"

    def _publish(self, state: str, detail: str = "") -> None:
        self.state = state
        if self.bus is not None:
            self.bus.publish(ComponentState(component="local_model", state=state, detail=detail))

    def check(self) -> None:
        if not self.model_path.is_file():
            raise LocalModelError(
                f"local model file missing: {self.model_path}; run `selfeng-tui model pull`"
            )
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelError("llama-cpp-python is not installed: pip install -e '.[local]'")

    def command(self, port: int) -> list[str]:
        s = self.settings
        return (
            [
                sys.executable,
                "-m",
                "tui_agent.core.llm.llama_server",
                "--model",
                str(self.model_path),
                "--model_alias",
                MODEL_ALIAS,
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--n_ctx",
                str(s.local_model_ctx),
                "--n_threads",
                str(s.local_model_threads),
                "--n_threads_batch",
                str(s.local_model_threads),
                # logits for the last token only: a tenth faster reading a prompt, and a saved state
                # small enough to keep; the RAM cache then keeps each prompt's state, so the next
                # call that starts the same way (every spec, tests or code prompt opens with the same
                # instructions) reads only what is new
                "--logits_all",
                "false",
                "--flash_attn",
                "true",
                # as fast at reading a prompt as 512 here, and each cached state copies less
                "--n_batch",
                "128",
                "--n_ubatch",
                "128",
            ]
            + (
                ["--cache", "true", "--cache_size", str(s.local_model_cache_mb << 20)]
                if s.local_model_cache_mb
                else []
            )
            + (
                # prompt-lookup decoding: text the reply copies from its prompt (a name, a signature,
                # a value) is drafted from the prompt and accepted many tokens at a time
                [
                    "--draft_model",
                    "prompt-lookup-decoding",
                    "--draft_model_num_pred_tokens",
                    str(s.local_model_lookup),
                ]
                if s.local_model_lookup
                else []
            )
        )

    async def ensure_started(self) -> str:
        async with self._lock:
            if self._process is not None and self._process.poll() is None and self.base_url:
                return self.base_url
            if self._process is not None:  # one that died: its watchdog and port go first
                await asyncio.to_thread(self._stop_process)
            self.check()
            self._publish("starting", self.model_path.name)
            try:
                url = await asyncio.to_thread(self._start)
            except LocalModelError as exc:
                self._publish("failed", str(exc))
                raise
            self._publish("ready", url)
            return url

    def _start(self) -> str:
        if self._closed:
            raise LocalModelError("the local model server was stopped")
        port = free_port()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        lifeline = Lifeline()
        log = self.log_path.open("wb")
        try:
            process = subprocess.Popen(
                lifeline.command(self.command(port)),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                pass_fds=lifeline.pass_fds,
                start_new_session=True,
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            lifeline.started()
            log.close()
        self._process, self._lifeline = process, lifeline
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.settings.local_model_start_timeout
        while time.monotonic() < deadline:
            if self._closed:  # stopped while it was loading: a start nobody waits for any more
                self._stop_process()
                raise LocalModelError("the local model server was stopped")
            if process.poll() is not None:
                self._stop_process()
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise LocalModelError(f"local model server exited ({process.returncode}): {tail[0][:200]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/models", timeout=1.0).status_code == 200:
                    self.base_url = url
                    return url
            time.sleep(0.2)
        self._stop_process()
        raise LocalModelError(
            f"local model server did not answer within {self.settings.local_model_start_timeout:.0f}s; see {self.log_path}"
        )

    def _stop_process(self) -> None:
        process, lifeline = self._process, self._lifeline
        self._process = self._lifeline = None
        self.base_url = None
        if lifeline is not None:
            lifeline.release()  # the watchdog kills the server
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def stop(self) -> None:
        self._closed = True
        if self._process is not None:
            self._stop_process()
            self._publish("stopped")

    @property
    def died(self) -> int | None:
        """The exit code of a server that was started and has stopped on its own, else None."""
        if self._process is None or self._closed:
            return None
        return self._process.poll()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None
