"""The query flow on the local model, from an empty library: a fixed set of everyday requests
(benchmarks/data/requests.json, each with its expected answer), then the same requests reworded,
which should reuse the tools made the first time. Prints one row per request and a summary.

    .venv/bin/python benchmarks/synthesis.py [--limit N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import SynthesisStep
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.services import start_services

DATA = Path(__file__).resolve().parent / "data" / "requests.json"


def is_right(value: Any, expected: Any, check: str) -> bool:
    if check == "number":
        try:
            return math.isclose(float(value), float(expected), rel_tol=1e-6, abs_tol=1e-9)
        except (TypeError, ValueError):
            return False
    if check == "bool":
        return value is expected
    return str(value) == str(expected)


async def run(limit: int | None) -> None:
    items = json.loads(DATA.read_text())["requests"][:limit]
    home = Path(tempfile.mkdtemp(prefix="selfeng-bench-synth-"))
    os.environ["SELFENG_HOME"] = str(home)
    settings = load_settings(
        home=home,
        import_starters=False,
        local_model_file=shared_model_file(),
        approve_new_tools="auto",  # nobody at the keyboard to say yes
    )
    bus = EventBus()
    failed_steps: list[str] = []
    bus.subscribe(
        lambda e: (
            failed_steps.append(f"{e.step}: {e.detail}")
            if isinstance(e, SynthesisStep) and e.status == "failed"
            else None
        )
    )
    services = await start_services(settings, bus)
    rows = []
    try:
        for phase, key in (("first", "request"), ("reworded", "reworded")):
            for item in items:
                started = time.perf_counter()
                failed_steps.clear()
                outcome = await services.orchestrator.handle(item[key])
                wall = time.perf_counter() - started
                right = (
                    outcome.kind == "answer"
                    and outcome.verified
                    and is_right(outcome.value, item["expected"], item["check"])
                )
                rows.append(
                    {
                        "phase": phase,
                        "request": item[key],
                        "path": outcome.path,
                        "attempts": outcome.attempts,
                        "calls": outcome.llm_calls,
                        "tokens": outcome.tokens,
                        "wall": wall,
                        "right": right,
                        "verified": outcome.verified,
                        "value": outcome.value,
                    }
                )
                print(
                    f"{phase:<8} {outcome.path:<11} {outcome.attempts:>3} {outcome.llm_calls:>5} {outcome.tokens:>6} "
                    f"{wall:>6.1f}s {'right' if right else 'WRONG':<5} {item[key][:48]:<48} -> {str(outcome.value)[:24]}",
                    flush=True,
                )
                if outcome.kind != "answer":
                    print(f"         why: {outcome.text[:200]}", flush=True)
                    for step in failed_steps:
                        print(f"           {step[:200]}", flush=True)
    finally:
        await services.aclose()
        shutil.rmtree(home, ignore_errors=True)
    summarize(rows)


def summarize(rows: list[dict[str, Any]]) -> None:
    print("\nphase     path       att calls tokens   wall  right request -> value  (table above)")
    for phase in ("first", "reworded"):
        part = [r for r in rows if r["phase"] == phase]
        if not part:
            continue
        right = sum(r["right"] for r in part)
        synthesised = [r for r in part if r["path"] == "synthesised"]
        tried = [r for r in part if r["path"] in ("synthesised", "failed")]  # every synthesis started
        reused = [r for r in part if r["path"] == "reused"]
        print(
            f"\n{phase}: {right}/{len(part)} right ({right / len(part):.0%}); "
            f"every right answer from a verified tool: {all(r['verified'] for r in part if r['right'])}"
        )
        if tried:
            print(
                f"  syntheses verified: {len(synthesised)}/{len(tried)} ({len(synthesised) / len(tried):.0%})"
            )
        if synthesised:
            print(f"  median synthesised request: {statistics.median(r['wall'] for r in synthesised):.1f}s")
        if reused:
            print(
                f"  reused: {len(reused)}; most LLM calls {max(r['calls'] for r in reused)}, "
                f"slowest {max(r['wall'] for r in reused):.1f}s"
            )
    print(
        "\ntargets: >= 80% right, all from verified tools; >= 80% of syntheses verified; "
        "median synthesised <= 90 s; a reused request <= 2 LLM calls and <= 15 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    asyncio.run(run(parser.parse_args().limit))


if __name__ == "__main__":
    main()
