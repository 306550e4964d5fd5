"""The LLM client through the real openai client against the stand-in server."""

from __future__ import annotations

import asyncio
import json
import socket
import time

import pytest
from pydantic import BaseModel

from tests.fake_llm import FakeLLM, Reply
from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import LLMCall
from tui_agent.core.llm.client import (
    LLMClient,
    LLMTimeout,
    LLMUnavailable,
    StructuredOutputError,
    extract_json,
)


class Spec(BaseModel):
    function_name: str
    arity: int


def client_for(url: str, bus: EventBus | None = None, **overrides: object) -> LLMClient:
    settings = load_settings(llm_base_url=url, llm_model="fake-model", **overrides)
    return LLMClient(settings, bus)


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def test_structured_output_first_time(fake_llm: FakeLLM) -> None:
    fake_llm.push('{"function_name": "percentage_of", "arity": 2}')
    llm = client_for(fake_llm.base_url)
    spec = await llm.structured(user("15% of 300"), Spec, purpose="spec")
    assert spec == Spec(function_name="percentage_of", arity=2)
    request = fake_llm.chat_requests[0]
    assert request["response_format"]["type"] == "json_schema"
    assert request["response_format"]["json_schema"]["schema"]["required"] == ["function_name", "arity"]
    assert "JSON schema" in request["messages"][-1]["content"]  # after the task: its words are cached


async def test_malformed_json_then_valid_reasks_with_the_error(fake_llm: FakeLLM) -> None:
    fake_llm.push('{"function_name": "f", "arity": ', '```json\n{"function_name": "f", "arity": 1}\n```')
    llm = client_for(fake_llm.base_url)
    assert await llm.structured(user("x"), Spec, purpose="spec") == Spec(function_name="f", arity=1)
    second = fake_llm.chat_requests[1]["messages"]
    assert second[-2] == {"role": "assistant", "content": '{"function_name": "f", "arity": '}
    assert "not valid JSON" in second[-1]["content"]


async def test_json_that_breaks_the_schema_ends_in_a_typed_error(fake_llm: FakeLLM) -> None:
    fake_llm.push(*['{"function_name": "f", "arity": "two"}'] * 3)
    llm = client_for(fake_llm.base_url, structured_retries=2)
    with pytest.raises(StructuredOutputError) as info:
        await llm.structured(user("x"), Spec, purpose="spec")
    assert "\n" not in str(info.value)
    assert "arity" in str(info.value) and "3 tries" in str(info.value)
    assert len(fake_llm.chat_requests) == 3
    assert "arity: Input should be a valid integer" in fake_llm.chat_requests[2]["messages"][-1]["content"]


async def test_rate_limited_then_success(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply(status=429, content="slow down", headers={"retry-after-ms": "20"}), "hello")
    llm = client_for(fake_llm.base_url)
    assert await llm.complete(user("hi"), purpose="chat") == "hello"
    assert len(fake_llm.chat_requests) == 2


async def test_server_errors_are_retried_then_reported(fake_llm: FakeLLM) -> None:
    fake_llm.push(
        Reply(status=503, headers={"retry-after-ms": "10"}),
        Reply(status=503, headers={"retry-after-ms": "10"}),
    )
    llm = client_for(fake_llm.base_url, llm_retries=1)
    with pytest.raises(Exception) as info:
        await llm.complete(user("hi"), purpose="chat")
    assert "HTTP 503" in str(info.value) and "\n" not in str(info.value)
    assert len(fake_llm.chat_requests) == 2


async def test_a_server_that_never_answers_times_out(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply(hang=True))
    llm = client_for(fake_llm.base_url, llm_timeout=1, llm_retries=0)
    started = time.monotonic()
    with pytest.raises(LLMTimeout, match="did not answer within 1s"):
        await llm.complete(user("hi"), purpose="chat")
    assert time.monotonic() - started < 3


async def test_a_server_that_is_down() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    llm = client_for(f"http://127.0.0.1:{port}/v1", llm_retries=0)
    with pytest.raises(LLMUnavailable) as info:
        await llm.complete(user("hi"), purpose="chat")
    assert f"127.0.0.1:{port}" in str(info.value) and "down or unreachable" in str(info.value)


async def test_streaming_yields_pieces_in_order(fake_llm: FakeLLM) -> None:
    code = "def reverse_string(text):\n    return text[::-1]\n"
    fake_llm.push(Reply(content=code, chunk_size=4))
    llm = client_for(fake_llm.base_url)
    pieces = [piece async for piece in llm.stream(user("write it"), purpose="implementation")]
    assert len(pieces) > 5
    assert "".join(pieces) == code


async def test_token_accounting_per_call_and_per_request(fake_llm: FakeLLM) -> None:
    bus = EventBus()
    calls: list[LLMCall] = []
    bus.subscribe(lambda e: calls.append(e) if isinstance(e, LLMCall) else None)
    fake_llm.push("one", Reply(content="two two two two"), '{"function_name": "g", "arity": 0}')
    llm = client_for(fake_llm.base_url, bus)
    await llm.complete(user("a"), purpose="chat", request_id="r1")
    _ = [p async for p in llm.stream(user("b"), purpose="implementation", request_id="r1")]
    await llm.structured(user("c"), Spec, purpose="spec", request_id="r2")
    await bus.drain()
    assert [c.purpose for c in calls] == ["chat", "implementation", "spec"]
    assert all(c.prompt_tokens > 0 and c.completion_tokens > 0 and c.latency_s >= 0 for c in calls)
    assert calls[1].completion_tokens == 4  # the server's own usage for "two two two two"
    assert llm.usage["r1"].calls == 2 and llm.usage["r2"].calls == 1
    assert llm.session.tokens == sum(c.prompt_tokens + c.completion_tokens for c in calls)


async def test_falls_back_to_a_format_the_endpoint_accepts_and_remembers_it() -> None:
    def router(body: dict) -> Reply | str:
        if body.get("response_format", {}).get("type") == "json_schema":
            return Reply(status=400, content="Input should be 'text' or 'json_object'")
        return '{"function_name": "h", "arity": 3}'

    with FakeLLM(router=router) as llm_server:
        llm = client_for(llm_server.base_url)
        assert (await llm.structured(user("x"), Spec, purpose="spec")).arity == 3
        assert llm.mode == "llama_cpp"
        await llm.structured(user("y"), Spec, purpose="spec")
        kinds = [r.get("response_format", {}).get("type") for r in llm_server.chat_requests]
        assert kinds == ["json_schema", "json_object", "json_object"]


async def test_cancellation_stops_a_call_promptly(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply(hang=True))
    llm = client_for(fake_llm.base_url, llm_timeout=60)
    task = asyncio.create_task(llm.complete(user("hi"), purpose="chat"))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert time.monotonic() - started < 1


def test_extract_json_from_chatty_replies() -> None:
    assert json.loads(extract_json('Sure! Here it is:\n{"a": 1}\nHope it helps')) == {"a": 1}
    assert json.loads(extract_json('```json\n{"a": [1, 2]}\n```')) == {"a": [1, 2]}
