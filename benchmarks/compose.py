"""Requests of several steps, and follow-ups, on the local model from a home with the starter tools
(benchmarks/data/multistep.json, frozen). Each multi-step request is asked, then asked again (a
composite should answer it in one step); then each follow-up pair is asked in one session. One row
per request (plan, path per step, model calls, time, right), then the summary.

    .venv/bin/python benchmarks/compose.py [--limit N] [--no-again] [--no-followups] [--no-multistep]

Confidently wrong: an answer that is not the expected value. Every right answer must come from
verified tools (a plan's steps run as checked calls of verified tools)."""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import time
from pathlib import Path
from typing import Any

from fresh import local_services, same

from tui_agent.core.events import Event, PlanMade
from tui_agent.core.flow.session import Session

DATA = Path(__file__).resolve().parent / "data" / "multistep.json"


def row(label: str, outcome: Any, wall: float, expect: Any, seen: list[Event]) -> dict[str, Any]:
    right = outcome.kind == "answer" and outcome.verified and same(outcome.value, expect)
    wrong = outcome.kind == "answer" and not right
    plans = [e for e in seen if isinstance(e, PlanMade)]
    plan = " > ".join(s["tool"] for s in plans[-1].steps) if plans else ""
    steps = " > ".join(f"{s['tool']}={s['value']!r}"[:40] for s in outcome.steps) or (outcome.tool or "")
    print(
        f"{label:<6} {'right' if right else 'WRONG' if wrong else 'miss':<5} {outcome.path:<11} "
        f"{outcome.llm_calls:>3} {wall:>6.1f}s  {steps[:70]:<70} "
        f"{str(outcome.value if outcome.kind == 'answer' else outcome.text)[:50]}",
        flush=True,
    )
    return {
        "right": right,
        "wrong": wrong,
        "path": outcome.path,
        "calls": outcome.llm_calls,
        "wall": wall,
        "plan": plan,
    }


async def run(limit: int | None, again: bool, followups: bool, multistep: bool = True) -> None:
    data = json.loads(DATA.read_text())
    services, seen, home = await local_services("compose")
    first, second, follow = [], [], []
    try:
        for item in data["multistep"][:limit] if multistep else []:
            seen.clear()
            started = time.perf_counter()
            outcome = await services.orchestrator.handle(item["request"])
            first.append(row(f"{item['id']}", outcome, time.perf_counter() - started, item["expect"], seen))
            if again:
                seen.clear()
                started = time.perf_counter()
                outcome = await services.orchestrator.handle(item["request"])
                second.append(
                    row(f"{item['id']}b", outcome, time.perf_counter() - started, item["expect"], seen)
                )
        if followups:
            for pair in data["followups"][:limit]:
                session = Session()
                await services.orchestrator.handle(pair["first"], session=session)
                seen.clear()
                started = time.perf_counter()
                outcome = await services.orchestrator.handle(pair["then"], session=session)
                follow.append(
                    row(f"f{pair['id']}", outcome, time.perf_counter() - started, pair["expect"], seen)
                )
    finally:
        await services.aclose()
        shutil.rmtree(home, ignore_errors=True)
    summarize(first, second, follow)


def summarize(
    first: list[dict[str, Any]], second: list[dict[str, Any]], follow: list[dict[str, Any]]
) -> None:
    def share(rows: list[dict[str, Any]]) -> str:
        right = sum(r["right"] for r in rows)
        return f"{right}/{len(rows)} ({right / len(rows):.0%})" if rows else "-"

    if first:
        print(
            f"\nmulti-step, first time: {share(first)} right, confidently wrong {sum(r['wrong'] for r in first)}"
        )
        planned = [r for r in first if r["path"] == "planned"]
        median = statistics.median(r["wall"] for r in first)
        print(f"  answered by a plan: {len(planned)}; median time {median:.1f}s")
    if second:
        one_step = [r for r in second if r["right"] and r["path"] == "reused" and r["calls"] <= 2]
        print(
            f"multi-step, asked again: {share(second)} right, confidently wrong {sum(r['wrong'] for r in second)}; "
            f"in one step with at most 2 model calls: {len(one_step)}"
        )
    if follow:
        print(f"follow-ups: {share(follow)} right, confidently wrong {sum(r['wrong'] for r in follow)}")
    print(
        "\ntargets: >= 75% of multi-step right, none confidently wrong; asked again, answered by a "
        "composite in one step with <= 2 model calls; >= 80% of follow-ups right"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--no-again", action="store_true")
    parser.add_argument("--no-followups", action="store_true")
    parser.add_argument("--no-multistep", action="store_true")
    args = parser.parse_args()
    asyncio.run(run(args.limit, not args.no_again, not args.no_followups, not args.no_multistep))


if __name__ == "__main__":
    main()
