"""The local model on this machine: cold start to first token, prompt and generation tokens/s,
for several thread counts and context sizes (how the defaults were chosen). Prints a table.

    .venv/bin/python benchmarks/llm.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from tui_agent.core.config import load_settings
from tui_agent.core.llm.client import LLMClient

FILLER = " ".join(f"item{i} costs {i * 7 % 97} euros;" for i in range(160))  # ~ 1k tokens
CONFIGS = [(1, 4096), (2, 2048), (2, 4096), (2, 8192)]


async def stream_timed(llm: LLMClient, prompt: str, max_tokens: int) -> tuple[float, float, int]:
    """(seconds to first piece, seconds from first to last piece, pieces) of one streamed reply."""
    started = time.perf_counter()
    first = last = None
    pieces = 0
    async for _piece in llm.stream(
        [{"role": "user", "content": prompt}], purpose="bench", max_tokens=max_tokens, temperature=0.0
    ):
        now = time.perf_counter()
        first = first or now
        last = now
        pieces += 1
    assert first is not None and last is not None
    return first - started, last - first, pieces


async def bench(threads: int, ctx: int) -> dict[str, float]:
    settings = load_settings(local_model_threads=threads, local_model_ctx=ctx)
    llm = LLMClient(settings)
    try:
        cold, _, _ = await stream_timed(llm, "Say hello.", 4)  # includes starting the server
        prompt_rates, gen_rates = [], []
        for _ in range(3):
            nonce = random.randint(0, 10**9)
            prompt = (
                f"Request {nonce}. Here is a price list: {FILLER} What does item3 cost? Answer in one word."
            )
            before = llm.session.prompt_tokens
            started = time.perf_counter()
            await llm.complete(
                [{"role": "user", "content": prompt}], purpose="bench", max_tokens=1, temperature=0.0
            )
            prompt_rates.append((llm.session.prompt_tokens - before) / (time.perf_counter() - started))
            _, span, pieces = await stream_timed(
                llm, f"Run {nonce}: write the numbers from 1 to 60 separated by spaces.", 120
            )
            gen_rates.append((pieces - 1) / span)
        return {"cold": cold, "prompt": statistics.median(prompt_rates), "gen": statistics.median(gen_rates)}
    finally:
        await llm.aclose()


async def main() -> None:
    rows = []
    for threads, ctx in CONFIGS:
        rows.append((threads, ctx, await bench(threads, ctx)))
    print(
        f"{'threads':>7} {'n_ctx':>6} {'cold start->1st token s':>24} {'prompt tok/s':>13} {'gen tok/s':>10}"
    )
    for threads, ctx, r in rows:
        print(f"{threads:>7} {ctx:>6} {r['cold']:>24.2f} {r['prompt']:>13.1f} {r['gen']:>10.1f}")
    print("prompt tok/s: the server's prompt token count over a one-token reply's latency;")
    print("gen tok/s: streamed pieces (one token each) between the first and the last.")


if __name__ == "__main__":
    asyncio.run(main())
