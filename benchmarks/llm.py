"""The local model on this machine: cold start to first token, prompt and generation tokens/s,
for several thread counts and context sizes (how the defaults were chosen). Prints a table.

    .venv/bin/python benchmarks/llm.py
    .venv/bin/python benchmarks/llm.py --lookup 10   # prompt-lookup decoding on synthesis calls, off vs on

``--lookup N``: the calls a synthesis makes (the code for a spec, the tests, a repair shown its
previous code) with prompt-lookup decoding off and with N tokens drafted from the prompt, taking
turns; generated tokens per second of each (one local model server per setting).
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


SYNTHESIS_CALLS = [
    ("code", "implement"),
    ("tests", "tests"),
    ("repair", "repair"),
]


def synthesis_messages(kind: str) -> list[dict[str, str]]:
    from tui_agent.core.llm import prompts
    from tui_agent.core.tool.spec import ToolSpec

    spec = ToolSpec.model_validate(
        {
            "function_name": "compound_balance",
            "description": "The balance after compound interest, compounded once a year.",
            "parameters": [
                {"name": "principal", "type": "float", "description": "the amount deposited"},
                {"name": "rate", "type": "float", "description": "the yearly rate in percent"},
                {"name": "years", "type": "int", "description": "how many years"},
            ],
            "return_type": "float",
            "docstring": "The balance after compound interest.\n\nArgs:\n    principal: the amount\n    rate: percent\n    years: years",
            "examples": [{"args": {"principal": 1000, "rate": 5, "years": 2}, "result": 1102.5}],
        }
    )
    if kind == "tests":
        return prompts.tests_messages(spec)
    if kind == "repair":
        previous = (
            "def compound_balance(principal: float, rate: float, years: int) -> float:\n"
            "    return principal * (1 + rate) ** years\n"
        )
        failure = "- example_1 (principal=1000, rate=5, years=2): expected 1102.5, got 36000.0"
        return prompts.implement_messages(spec, "", failure, previous)
    return prompts.implement_messages(spec)


async def lookup(tokens: int, rounds: int = 3) -> None:
    """Generated tokens per second on synthesis calls, lookup off and on, taking turns."""
    from tui_agent.core.llm import prompts

    clients = {n: LLMClient(load_settings(local_model_lookup=n)) for n in (0, tokens)}
    rates: dict[tuple[int, str], list[float]] = {}
    try:
        for _ in range(rounds):
            for n, llm in clients.items():
                for label, kind in SYNTHESIS_CALLS:
                    before = llm.session.completion_tokens
                    started = time.perf_counter()
                    await llm.complete(
                        synthesis_messages(kind),
                        purpose="bench",
                        max_tokens=400,
                        temperature=0.0,
                        stop=prompts.AFTER_CODE,
                    )
                    made = llm.session.completion_tokens - before
                    rates.setdefault((n, label), []).append(made / (time.perf_counter() - started))
            await asyncio.sleep(0)
    finally:
        for llm in clients.values():
            await llm.aclose()
    print(f"{'call':<8} {'lookup off tok/s':>17} {f'lookup {tokens} tok/s':>17} {'on/off':>7}")
    for label, _kind in SYNTHESIS_CALLS:
        off, on = statistics.median(rates[(0, label)]), statistics.median(rates[(tokens, label)])
        print(f"{label:<8} {off:>17.1f} {on:>17.1f} {on / off:>7.2f}")
    print("(generated tokens over the call's wall time, prompt reading included, median of the rounds)")


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
    import sys

    if "--lookup" in sys.argv:
        asyncio.run(lookup(int(sys.argv[sys.argv.index("--lookup") + 1])))
    else:
        asyncio.run(main())
