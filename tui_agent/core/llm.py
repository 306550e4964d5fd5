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
import functools
import importlib
import json
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any, TypeVar

import openai
from pydantic import BaseModel, ValidationError

from tui_agent.core.config import Settings
from tui_agent.core.events import ComponentState, EventBus, LLMCall
from tui_agent.core.local_model import MODEL_ALIAS, LocalModelError, LocalModelServer

T = TypeVar("T", bound=BaseModel)
Message = dict[str, Any]
MODES = ("json_schema", "llama_cpp", "json_object", "prompt")


def preload() -> None:
    """The openai client imports its chat and streaming modules (and builds their pydantic
    models) on the first call. A caller with an event loop to keep smooth runs this in a thread
    beforehand."""
    for module in ("openai.resources.chat.completions", "openai.lib.streaming.chat"):
        importlib.import_module(module)


class LLMError(Exception):
    """An LLM call failed; ``str()`` is one line a user can act on."""


class LLMUnavailable(LLMError):
    pass


class LLMTimeout(LLMError):
    pass


class StructuredOutputError(LLMError):
    """The model did not produce valid output for the schema after the allowed re-asks."""

    def __init__(self, message: str, raw: str = "") -> None:
        super().__init__(message)
        self.raw = raw


@dataclass
class RequestUsage:
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@functools.lru_cache(maxsize=64)
def json_schema_of(schema: type[BaseModel]) -> dict[str, Any]:
    """Building a schema costs pydantic 10-30 ms; each structured call would pay it on the loop."""
    return schema.model_json_schema()


def estimate_tokens(text: str) -> int:
    return max(1, len(text) // 4)


def extract_json(text: str) -> str:
    """The JSON object in a reply: the whole text, or a fenced block, or the outermost braces."""
    stripped = text.strip()
    fence = re.search(r"```(?:json)?\s*(.*?)```", stripped, re.DOTALL)
    if fence:
        stripped = fence.group(1).strip()
    if not stripped.startswith("{"):
        start, end = stripped.find("{"), stripped.rfind("}")
        if start != -1 and end > start:
            stripped = stripped[start : end + 1]
    return stripped


def _first_error(exc: ValidationError | json.JSONDecodeError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
    errors = exc.errors()
    shown = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in errors[:3])
    return f"does not match the schema ({shown})"


class LLMClient:
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

    @property
    def endpoint(self) -> str:
        return self.settings.llm_base_url or "local model (127.0.0.1)"

    async def _openai(self) -> openai.AsyncOpenAI:
        async with self._lock:
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
    ) -> str:
        try:
            return await self._create(
                messages,
                purpose=purpose,
                request_id=request_id,
                temperature=temperature,
                max_tokens=max_tokens,
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
    ) -> AsyncIterator[str]:
        """Yield the reply in pieces as they arrive. Accounting happens when the stream ends
        (or is cancelled): the server's usage when it sends one, an estimate otherwise."""
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

    # --- structured ------------------------------------------------------------------

    def _response_format(self, mode: str, schema: type[BaseModel]) -> dict[str, Any] | None:
        json_schema = json_schema_of(schema)
        if mode == "json_schema":
            return {
                "type": "json_schema",
                "json_schema": {"name": schema.__name__, "schema": json_schema, "strict": False},
            }
        if mode == "llama_cpp":
            return {"type": "json_object", "schema": json_schema}
        if mode == "json_object":
            return {"type": "json_object"}
        return None

    @staticmethod
    def _instructions(schema: type[BaseModel]) -> str:
        return (
            "Reply with one JSON object only, no prose and no code fences, matching this JSON schema:\n"
            + json.dumps(json_schema_of(schema), separators=(",", ":"))
        )

    async def _ask_json(
        self,
        messages: list[Message],
        schema: type[BaseModel],
        *,
        purpose: str,
        request_id: str,
        max_tokens: int | None,
        temperature: float = 0.0,
    ) -> str:
        """One call in the strongest mode this endpoint accepts (found once, then remembered)."""
        modes = [self.mode] if self.mode else list(MODES)
        for index, mode in enumerate(modes):
            response_format = self._response_format(mode, schema)
            extra = {"response_format": response_format} if response_format else {}
            try:
                text = await self._create(
                    messages,
                    purpose=purpose,
                    request_id=request_id,
                    temperature=temperature,
                    max_tokens=max_tokens,
                    **extra,
                )
            except openai.APIStatusError as exc:
                if exc.status_code in (400, 422, 500) and index + 1 < len(modes):
                    continue  # the endpoint refuses this format: try the next, weaker one
                raise self._translate(exc) from None
            except openai.OpenAIError as exc:
                raise self._translate(exc) from None
            self.mode = mode
            return text
        raise LLMError("no structured-output mode is accepted by the endpoint")

    async def structured(
        self,
        messages: list[Message],
        schema: type[T],
        *,
        purpose: str,
        request_id: str = "",
        max_tokens: int | None = 1024,
        temperature: float = 0.0,
    ) -> T:
        """A validated ``schema`` instance, re-asking with the validation error on bad output.
        Greedy unless ``temperature`` asks for a different draw."""
        conversation = [{"role": "system", "content": self._instructions(schema)}, *messages]
        raw = ""
        problem = ""
        for _attempt in range(self.settings.structured_retries + 1):
            raw = await self._ask_json(
                conversation,
                schema,
                purpose=purpose,
                request_id=request_id,
                max_tokens=max_tokens,
                temperature=temperature,
            )
            try:
                return schema.model_validate(json.loads(extract_json(raw)))
            except (json.JSONDecodeError, ValidationError) as exc:
                problem = _first_error(exc)
            conversation = [
                *conversation,
                {"role": "assistant", "content": raw[:4000]},
                {
                    "role": "user",
                    "content": f"That reply {problem}. Reply again with only the corrected JSON object.",
                },
            ]
        raise StructuredOutputError(
            f"the model's {purpose} reply {problem} after {self.settings.structured_retries + 1} tries", raw
        )
