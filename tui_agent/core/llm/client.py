"""One client for every OpenAI-compatible endpoint (OpenAI, Ollama, vLLM, llama.cpp), and the
embedded local model by default.

- ``complete`` / ``stream`` for text; ``structured`` for a pydantic model: JSON is asked for in the
  strongest way the endpoint accepts (``json_schema``; llama.cpp's schema-constrained
  ``json_object``; plain ``json_object``; instructions only), validated with pydantic, and on
  invalid output asked again with the validation error shown, then a typed error.
- The ``openai`` client does the backoff on 429 / 5xx / connection errors and honours
  Retry-After; every failure reaches callers as an :class:`LLMError` with a one-line message.
- Every call publishes an :class:`LLMCall` event (tokens, latency) and is counted per request.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import openai

from tui_agent.core.bus import EventBus
from tui_agent.core.config import Settings
from tui_agent.core.events import ComponentState, LLMCall
from tui_agent.core.llm.errors import LLMError, LLMTimeout, LLMUnavailable, StructuredOutputError
from tui_agent.core.llm.local_model import MODEL_ALIAS, LocalModelError, LocalModelServer
from tui_agent.core.llm.structured import Message, StructuredOutput, estimate_tokens, extract_json

__all__ = [
    "LLMClient",
    "LLMError",
    "LLMTimeout",
    "LLMUnavailable",
    "StructuredOutputError",
    "extract_json",
    "preload",
]


def preload() -> None:
    """The openai client imports its chat and streaming modules (and builds their pydantic
    models) on the first call. A caller with an event loop to keep smooth runs this in a thread
    beforehand."""
    for module in ("openai.resources.chat.completions", "openai.lib.streaming.chat"):
        importlib.import_module(module)


@dataclass
class RequestUsage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class LLMClient(StructuredOutput):
    """Talks to the configured endpoint, or starts the local model on first need."""

    def __init__(
        self, settings: Settings, bus: EventBus | None = None, local: LocalModelServer | None = None
    ) -> None:
        self.settings = settings
        self.bus = bus
        self.local = None if settings.llm_base_url else (local or LocalModelServer(settings, bus))
        self.model = settings.llm_model if settings.llm_base_url else MODEL_ALIAS
        self.mode: str | None = None if settings.llm_base_url else "llama_cpp"
        self.usage: dict[str, RequestUsage] = {}
        self.session = RequestUsage()
        self._client: openai.AsyncOpenAI | None = None
        self._lock = asyncio.Lock()
        self._warming: asyncio.Task[None] | None = None

    @property
    def endpoint(self) -> str:
        return self.settings.llm_base_url or "local model (127.0.0.1)"

    async def _openai(self) -> openai.AsyncOpenAI:
        async with self._lock:
            if self._client is not None and self.local is not None and self.local.died is not None:
                # the local server died (killed, crashed): the next call starts a new one
                await self._client.close()
                self._client = None
            if self._client is None:
                base_url = self.settings.llm_base_url
                if base_url is None:
                    assert self.local is not None
                    try:
                        base_url = await self.local.ensure_started()
                    except LocalModelError as exc:
                        raise LLMUnavailable(str(exc)) from None
                key = (
                    self.settings.llm_api_key.get_secret_value()
                    if self.settings.llm_api_key
                    else "not-needed"
                )
                self._client = openai.AsyncOpenAI(
                    base_url=base_url,
                    api_key=key,
                    timeout=self.settings.llm_timeout,
                    max_retries=self.settings.llm_retries,
                )
            return self._client

    def start_warming(self) -> None:
        """Start the local model (or check the endpoint) in the background; a call that comes
        before it is ready waits for it, one that never comes does not."""
        if self._warming is None:
            self._warming = asyncio.create_task(self._warm_quietly())

    async def _warm_quietly(self) -> None:
        with contextlib.suppress(LLMError):
            await self.warm_up()

    async def warm_up(self) -> None:
        """Start the local model, or check a remote endpoint answers, before the first request
        needs it; the outcome is published as a ComponentState("llm") event."""
        try:
            client = await self._openai()
            if self.local is None:
                await client.with_options(max_retries=0, timeout=10).models.list()
        except Exception as exc:
            error = exc if isinstance(exc, LLMError) else self._translate(exc)
            self._state("unreachable", str(error))
            raise error from None
        self._state("ready", self.endpoint)

    def _state(self, state: str, detail: str) -> None:
        if self.bus is not None:
            self.bus.publish(ComponentState(component="llm", state=state, detail=detail))

    async def aclose(self) -> None:
        if self._warming is not None and not self._warming.done():
            self._warming.cancel()
            with contextlib.suppress(BaseException):
                await self._warming
        if self._client is not None:
            await self._client.close()
            self._client = None
        if self.local is not None:
            await asyncio.to_thread(self.local.stop)

    # --- accounting ------------------------------------------------------------------

    def _account(
        self, purpose: str, request_id: str, prompt: int, completion: int, started: float, ok: bool
    ) -> None:
        for usage in (self.usage.setdefault(request_id, RequestUsage()), self.session):
            usage.calls += 1
            usage.prompt_tokens += prompt
            usage.completion_tokens += completion
        if self.bus is not None:
            self.bus.publish(
                LLMCall(
                    purpose=purpose,
                    model=self.model,
                    prompt_tokens=prompt,
                    completion_tokens=completion,
                    latency_s=round(time.monotonic() - started, 3),
                    ok=ok,
                    request_id=request_id,
                )
            )

    def _translate(self, exc: Exception) -> LLMError:
        where = self.endpoint
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout(f"the LLM at {where} did not answer within {self.settings.llm_timeout:.0f}s")
        if (
            isinstance(exc, openai.APIConnectionError)
            and self.local is not None
            and self.local.died is not None
        ):
            return LLMUnavailable(
                f"the local model server stopped (exit code {self.local.died}; see {self.local.log_path}): "
                "it is started again for the next call"
            )
        if isinstance(exc, openai.APIConnectionError):
            return LLMUnavailable(
                f"the LLM endpoint {where} is down or unreachable; check it or SELFENG_LLM_BASE_URL"
            )
        if isinstance(exc, openai.RateLimitError):
            return LLMUnavailable(f"the LLM at {where} is rate-limiting us (HTTP 429) and retries ran out")
        if isinstance(exc, openai.AuthenticationError):
            return LLMUnavailable(f"the LLM at {where} refused our key (HTTP 401); set SELFENG_LLM_API_KEY")
        if isinstance(exc, openai.APIStatusError):
            message = str(exc.message).splitlines()[0][:160] if exc.message else ""
            return LLMError(f"the LLM at {where} answered HTTP {exc.status_code}: {message}")
        return LLMError(f"the LLM call failed: {type(exc).__name__}: {str(exc)[:160]}")

    # --- text ------------------------------------------------------------------------

    async def _create(
        self,
        messages: list[Message],
        *,
        purpose: str,
        request_id: str,
        temperature: float,
        max_tokens: int | None,
        **extra: Any,
    ) -> str:
        """One non-streamed call, accounted; openai's own errors pass through."""
        client = await self._openai()
        started = time.monotonic()
        try:
            response = await client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=temperature,
                max_tokens=max_tokens,
                **extra,  # type: ignore[arg-type]
            )
        except openai.OpenAIError:
            self._account(purpose, request_id, 0, 0, started, ok=False)
            raise
        content = (response.choices[0].message.content or "") if response.choices else ""
        usage = response.usage
        prompt = usage.prompt_tokens if usage else estimate_tokens(json.dumps(messages))
        completion = usage.completion_tokens if usage else estimate_tokens(content)
        self._account(purpose, request_id, prompt, completion, started, ok=True)
        return content

    async def complete(
        self,
        messages: list[Message],
        *,
        purpose: str,
        request_id: str = "",
        temperature: float = 0.2,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> str:
        """One reply; ``stop``: where a reply that has said what was asked is cut (a closing code
        fence, say), so a model that goes on explaining costs no more tokens. ``seed`` makes a
        sampled reply the same for the same prompt, whatever was asked before it."""
        extra: dict[str, Any] = {"stop": stop} if stop else {}
        if seed is not None:
            extra["seed"] = seed
        try:
            return await self._create(
                messages,
                purpose=purpose,
                request_id=request_id,
                temperature=temperature,
                max_tokens=max_tokens,
                **extra,
            )
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None

    async def stream(
        self,
        messages: list[Message],
        *,
        purpose: str,
        request_id: str = "",
        temperature: float = 0.2,
        max_tokens: int | None = None,
        stop: list[str] | None = None,
    ) -> AsyncIterator[str]:
        """Yield the reply in pieces as they arrive. Accounting happens when the stream ends
        (or is cancelled): the server's usage when it sends one, an estimate otherwise."""
        extra = {"stop": stop} if stop else {}
        client = await self._openai()
        started = time.monotonic()
        pieces: list[str] = []
        usage = None
        ok = False
        seen = 0
        try:
            stream = await client.chat.completions.create(
                model=self.model,
                messages=messages,
                temperature=temperature,
                max_tokens=max_tokens,  # type: ignore[arg-type]
                **extra,  # type: ignore[arg-type]
                stream=True,
                stream_options={"include_usage": True},
            )
            async with stream:
                async for chunk in stream:
                    seen += 1
                    if seen % 8 == 0:
                        # a burst of buffered chunks is parsed without awaiting the network:
                        # let the rest of the loop (a dashboard, say) run between them
                        await asyncio.sleep(0)
                    if chunk.usage is not None:
                        usage = chunk.usage
                    if chunk.choices and chunk.choices[0].delta.content:
                        pieces.append(chunk.choices[0].delta.content)
                        yield chunk.choices[0].delta.content
            ok = True
        except openai.OpenAIError as exc:
            raise self._translate(exc) from None
        finally:
            text = "".join(pieces)
            prompt = usage.prompt_tokens if usage else estimate_tokens(json.dumps(messages))
            completion = usage.completion_tokens if usage else estimate_tokens(text) if text else 0
            self._account(purpose, request_id, prompt, completion, started, ok=ok)
