"""The embedded default LLM: llama-cpp-python's OpenAI-compatible server on 127.0.0.1.

One per machine (:mod:`shared_server`): the first process that needs it starts it on a free
port, health-checked on ``/v1/models``; every other process finds it and queues its requests
there (two servers on two cores each slowed to a twentieth). It exits when the last process
using it is gone, SIGKILLed or not. The same ``llm.py`` client talks to it as to any other
endpoint."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import importlib.util
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import ComponentState
from tui_agent.core.llm.model_files import ModelFileError, local_model_file
from tui_agent.core.llm.shared_server import SharedServer, started_at

MODEL_ALIAS = "qwen2.5-coder-1.5b-instruct"


class LocalModelError(ModelFileError):
    """The local model cannot be served; the message says what to run."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LocalModelServer:
    """This process's use of the machine's llama.cpp server. ``await ensure_started()`` returns
    its base URL, starting it when nobody has."""

    def __init__(self, settings: Settings, bus: EventBus | None = None) -> None:
        self.settings = settings
        self.bus = bus
        self.model_path = local_model_file(settings)
        self.state = "stopped"
        self.base_url: str | None = None
        self._process: subprocess.Popen[bytes] | None = None  # when this process started it
        self._pid: int | None = None
        self._start_mark = ""
        self._lock = asyncio.Lock()
        self._closed = False  # stopped: a start still loading gives up
        self._using: Path | None = None  # this process's file among the server's users
        # the same model with the same settings is the same server, whoever asks
        key = hashlib.sha256("\0".join(self.command(0)).encode()).hexdigest()[:16]
        self.shared = SharedServer(settings.model_cache, key)
        self.log_path = self.shared.log

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
                # prompt-lookup decoding scores every drafted token: llama-cpp-python sizes its
                # logits for the last token only otherwise, and the first long reply overflows it
                "true" if s.local_model_lookup else "false",
                "--flash_attn",
                "true",
                # as fast at reading a prompt as 512 here, and each cached state copies less
                "--n_batch",
                "128",
                "--n_ubatch",
                "128",
                # shared: a request from another process waits its turn instead of cutting one off
                "--interrupt_requests",
                "false",
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
            if self.base_url and self.died is None:
                return self.base_url
            if self._pid is not None:  # one that died: let go of it first
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
        """Find the machine's server or start it, under the shared lock (held while it loads)."""
        if self._closed:
            raise LocalModelError("the local model server was stopped")
        self.shared.prepare()
        with self.shared.lock.acquire(timeout=self.settings.local_model_start_timeout + 60):
            if self._using is None:
                self._using = self.shared.join()
            # a live server is used even when it is slow to answer: busy with another process's
            # request on these two cores, it took more than a second to say hello
            found = self.shared.running()
            if found is not None:
                self._pid, self._start_mark = int(str(found["pid"])), str(found["start"])
                self.base_url = str(found["url"])
                return self.base_url
            url = self._launch()
            self.shared.publish(self._pid or 0, url)
            return url

    def _launch(self) -> str:
        port = free_port()
        log = self.log_path.open("wb")
        try:
            process = subprocess.Popen(
                [*self.command(port), "--selfeng_shared", str(self.settings.model_cache), self.shared.key],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # nobody's child for life: it leaves when its users do
                env={**os.environ, "PYTHONUNBUFFERED": "1"},
            )
        finally:
            log.close()
        self._process, self._pid, self._start_mark = process, process.pid, started_at(process.pid)
        url = f"http://127.0.0.1:{port}/v1"
        deadline = time.monotonic() + self.settings.local_model_start_timeout
        while time.monotonic() < deadline:
            if self._closed:  # stopped while it was loading: a start nobody waits for any more
                self._kill()
                raise LocalModelError("the local model server was stopped")
            if process.poll() is not None:
                self._kill()
                tail = self.log_path.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
                raise LocalModelError(f"local model server exited ({process.returncode}): {tail[0][:200]}")
            if _answers(url):
                self.base_url = url
                return url
            time.sleep(0.2)
        self._kill()
        raise LocalModelError(
            f"local model server did not answer within {self.settings.local_model_start_timeout:.0f}s; see {self.log_path}"
        )

    def _kill(self) -> None:
        """Only for a server this process started and nobody else has found yet."""
        process = self._process
        self._process = self._pid = None
        self.base_url = None
        if process is not None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, 9)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=10)

    def _stop_process(self) -> None:
        """Let go of a server that died: the next start finds or starts another."""
        if self._process is not None:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(timeout=10)
        self._process = self._pid = None
        self.base_url = None

    def stop(self) -> None:
        """This process no longer uses the server; it exits when its last user has gone."""
        self._closed = True
        using, self._using = self._using, None
        if using is not None:
            using.unlink(missing_ok=True)
        if self._pid is not None:
            self._process = self._pid = None
            self.base_url = None
            self._publish("stopped")

    @property
    def died(self) -> int | None:
        """The exit code (-9 when another process started it) of a server that has stopped."""
        if self._pid is None or self._closed:
            return None
        if self._process is not None:
            return self._process.poll()
        return None if started_at(self._pid) == self._start_mark else -9

    @property
    def pid(self) -> int | None:
        return self._pid


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/models", timeout=1.0).status_code == 200
    return False
