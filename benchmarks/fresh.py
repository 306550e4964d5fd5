"""Requests nobody tuned for, asked in order on one fresh home with the starter tools and the local
model: is every answer right, and is any stated with confidence and wrong? Reads a frozen file of
``benchmarks/data/fresh/`` (the newest by default) and prints one row per request, then the
summary: right share, confidently wrong answers, and the decision's precision and recall (a reuse
is right when it is the labelled tool; ``reuse:@ID`` is the tool made for item ID in this run).

    .venv/bin/python benchmarks/fresh.py [--file benchmarks/data/fresh/2026-12-07.json] [--limit N]

An answer is confidently wrong when it is given as an answer and is not the expected value, or
when the item needs a value only the person has ("ask") or live data ("refuse"). A request that
ends in a failure or a question is not confidently wrong, and it is right only where it should.
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
from tui_agent.core.events import DecisionMade, Event, PlanMade, SynthesisStep, ToolRegistered
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.services import Services, start_services

DATA = Path(__file__).resolve().parent / "data" / "fresh"


def newest() -> Path:
    return sorted(DATA.glob("*.json"))[-1]


def same(value: Any, expected: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool):
        return value is expected
    if isinstance(expected, int | float):
        try:
            return math.isclose(float(value), float(expected), rel_tol=1e-6, abs_tol=1e-6)
        except (TypeError, ValueError):
            return False
    return str(value).strip() == str(expected)


def grade(item: dict[str, Any], kind: str, value: Any, path: str) -> tuple[bool, bool]:
    """(right, confidently wrong) for one request's outcome."""
    expect = item["expect"]
    if expect == "ask":
        return kind == "question", kind == "answer"
    if expect == "refuse":
        return kind == "failed" and path == "declined", kind == "answer"
    if kind != "answer":
        return False, False
    right = same(value, expect)
    return right, not right


def decided_right(label: str, decision: str, tool: str | None, made: dict[int, str]) -> bool | None:
    """Whether a reuse decision is right (None: the decision was no reuse)."""
    if decision != "reuse":
        return None
    if not label.startswith("reuse:"):
        return False
    wanted = label.removeprefix("reuse:")
    if wanted.startswith("@"):
        wanted = made.get(int(wanted[1:]), "?")
    return tool == wanted


async def local_services(label: str) -> tuple[Services, list[Event], Path]:
    """The engine on the local model in a fresh home with the starter tools, new tools allowed to
    run (nobody is at the keyboard), and every event it publishes."""
    home = Path(tempfile.mkdtemp(prefix=f"selfeng-bench-{label}-"))
    os.environ["SELFENG_HOME"] = str(home)
    settings = load_settings(home=home, local_model_file=shared_model_file(), approve_new_tools="auto")
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe(seen.append, maxsize=100_000)
    return await start_services(settings, bus), seen, home


async def run(path: Path, limit: int | None) -> None:
    items = json.loads(path.read_text())["items"][:limit]
    services, seen, home = await local_services("fresh")
    made: dict[int, str] = {}
    rows = []
    print(f"{path.name}: {len(items)} requests\n")
    try:
        for item in items:
            seen.clear()
            started = time.perf_counter()
            outcome = await services.orchestrator.handle(item["request"])
            wall = time.perf_counter() - started
            await services.bus.drain()  # this request's events, none of them left for the next row
            # the request's own decision comes first; a plan's steps decide after it, same id
            decisions = [
                e for e in seen if isinstance(e, DecisionMade) and e.request_id == outcome.request_id
            ]
            decision = decisions[0].decision if decisions else "none"
            decided_tool = decisions[0].tool if decisions else None
            if outcome.path == "reused" and outcome.tool and decision != "reuse":
                decision, decided_tool = "reuse", outcome.tool  # the drafted name was a tool we had
            if any(isinstance(e, ToolRegistered) for e in seen) and outcome.tool:
                made[item["id"]] = outcome.tool
            right, wrong = grade(item, outcome.kind, outcome.value, outcome.path)
            reuse_ok = decided_right(item["label"], decision, decided_tool, made)
            rows.append(
                {
                    "item": item,
                    "kind": outcome.kind,
                    "path": outcome.path,
                    "tool": outcome.tool,
                    "decision": decision,
                    "reuse_ok": reuse_ok,
                    "right": right,
                    "wrong": wrong,
                    "calls": outcome.llm_calls,
                    "wall": wall,
                }
            )
            mark = "right" if right else ("WRONG" if wrong else "miss")
            print(
                f"{item['id']:>3} {mark:<5} {outcome.path:<11} {decision:<10} {str(outcome.tool)[:22]:<22} "
                f"{outcome.llm_calls:>3} {wall:>6.1f}s {item['request'][:52]:<52} -> "
                f"{str(outcome.value if outcome.kind == 'answer' else outcome.text)[:60]}",
                flush=True,
            )
            if not right:  # why, for the reader: the decision, a plan, the steps that failed
                if decisions:
                    print(f"      decided: {decisions[0].reason[:160]}", flush=True)
                for plan in (e for e in seen if isinstance(e, PlanMade)):
                    print(f"      plan: {[s['tool'] for s in plan.steps]}", flush=True)
                for step in [e for e in seen if isinstance(e, SynthesisStep) and e.status == "failed"][:4]:
                    print(f"      {step.step} failed: {step.detail[:140]}", flush=True)
    finally:
        await services.aclose()
        shutil.rmtree(home, ignore_errors=True)
    summarize(rows)


def summarize(rows: list[dict[str, Any]]) -> None:
    right = sum(r["right"] for r in rows)
    wrong = [r for r in rows if r["wrong"]]
    reuses = [r for r in rows if r["reuse_ok"] is not None]
    labelled = [r for r in rows if r["item"]["label"].startswith("reuse:")]
    precision = sum(r["reuse_ok"] for r in reuses) / len(reuses) if reuses else 1.0
    recall = sum(bool(r["reuse_ok"]) for r in labelled) / len(labelled) if labelled else 1.0
    print(f"\nright: {right}/{len(rows)} ({right / len(rows):.0%})")
    print(
        f"confidently wrong: {len(wrong)}"
        + "".join(f"\n  {r['item']['id']}: {r['item']['request']}" for r in wrong)
    )
    print(
        f"decision: precision {precision:.2f} ({len(reuses)} reuses), recall {recall:.2f} ({len(labelled)} labelled reuse)"
    )
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        by_kind.setdefault(r["item"]["kind"].split(":")[0], []).append(r)
    for kind, part in sorted(by_kind.items()):
        print(f"  {kind:<28} {sum(r['right'] for r in part)}/{len(part)} right")
    synthesised = [r["wall"] for r in rows if r["path"] == "synthesised"]
    reused = [r["wall"] for r in rows if r["path"] == "reused"]
    if synthesised:
        print(f"median synthesised request: {statistics.median(synthesised):.1f}s ({len(synthesised)})")
    if reused:
        print(f"median reused request: {statistics.median(reused):.1f}s ({len(reused)})")
    print("\ntargets: zero confidently wrong, >= 90% right; decision precision >= 0.97, recall >= 0.90")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(run(args.file or newest(), args.limit))


if __name__ == "__main__":
    main()
