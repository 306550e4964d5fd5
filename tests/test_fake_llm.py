"""The stand-in server itself, through the real openai client: later tests rely on it."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI

from tests.fake_llm import FakeLLM, Reply


def client(llm: FakeLLM, **kwargs: object) -> AsyncOpenAI:
    return AsyncOpenAI(base_url=llm.base_url, api_key="test", max_retries=0, **kwargs)  # type: ignore[arg-type]


async def test_scripted_reply_and_recording(fake_llm: FakeLLM) -> None:
    fake_llm.push("first", "second")
    c = client(fake_llm)
    r1 = await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hi"}])
    r2 = await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "again"}])
    assert [r1.choices[0].message.content, r2.choices[0].message.content] == ["first", "second"]
    assert r1.usage is not None and r1.usage.completion_tokens >= 1
    assert [b["messages"][0]["content"] for b in fake_llm.chat_requests] == ["hi", "again"]


async def test_streaming_in_chunks_with_usage(fake_llm: FakeLLM) -> None:
    fake_llm.push(Reply(content="def f():\n    return 42\n", chunk_size=5))
    stream = await client(fake_llm).chat.completions.create(
        model="m",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    pieces, usage = [], None
    async for chunk in stream:
        if chunk.choices and chunk.choices[0].delta.content:
            pieces.append(chunk.choices[0].delta.content)
        if chunk.usage:
            usage = chunk.usage
    assert "".join(pieces) == "def f():\n    return 42\n"
    assert len(pieces) > 3
    assert usage is not None and usage.prompt_tokens >= 1


async def test_models_and_error_status(fake_llm: FakeLLM) -> None:
    models = await client(fake_llm).models.list()
    assert [m.id for m in models.data] == ["fake-model"]
    fake_llm.push(Reply(status=429, content="slow down"))
    with pytest.raises(openai.RateLimitError):
        await client(fake_llm).chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])


async def test_router_and_exhausted_script() -> None:
    with FakeLLM(router=lambda body: "routed" if "ping" in body["messages"][-1]["content"] else None) as llm:
        c = client(llm)
        r = await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "ping"}])
        assert r.choices[0].message.content == "routed"
        with pytest.raises(openai.InternalServerError, match="script exhausted"):
            await c.chat.completions.create(model="m", messages=[{"role": "user", "content": "other"}])
