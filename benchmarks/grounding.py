"""What a request works out to, computed apart (:mod:`tui_agent.core.flow.grounding`): how often
the one program the model writes is right, on a frozen file of requests with expected answers, and
what it costs. A program a step short (the conversion without the rounding asked for) is the
evidence a tool that also stops there agrees with, so this share bounds how far a reuse or a new
tool's worked example can be trusted. One row per request, then the summary.

    .venv/bin/python benchmarks/grounding.py [--file benchmarks/data/grounding/2026-12-07.json]

Items are ``{"request", "expect"}``; ``expect`` is a value, ``"ask"`` (a value only the person
has) or ``"refuse"`` (live data). Files in the fresh (``items``) and multistep (``multistep``)
formats are read too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fresh import same

from tui_agent.core.config import load_settings
from tui_agent.core.flow.grounding import Grounder, Kind
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.sandbox import make_sandbox

DATA = Path(__file__).resolve().parent / "data" / "grounding"


def items_of(path: Path) -> list[dict[str, Any]]:
    data = json.loads(path.read_text())
    for key in ("items", "multistep"):
        if key in data:
            return list(data[key])
    raise SystemExit(f"{path}: no items")


def right(expect: Any, kind: Kind, value: Any) -> bool:
    if expect == "ask":
        return kind == Kind.PERSONAL
    if expect == "refuse":
        return kind == Kind.LIVE
    return kind == Kind.VALUE and same(value, expect)


async def run(path: Path, limit: int | None) -> None:
    os.environ.setdefault("SELFENG_HOME", tempfile.mkdtemp(prefix="selfeng-bench-grounding-"))
    settings = load_settings(local_model_file=shared_model_file())
    llm = LLMClient(settings)
    sandbox = make_sandbox(settings)
    grounder = Grounder(llm, sandbox)
    items = items_of(path)[:limit]
    rows = []
    print(f"{path.name}: {len(items)} requests\n")
    try:
        await grounder.ground("What is 1 + 1?")  # the model's start is not the first item's time
        for item in items:
            before = llm.session.completion_tokens
            started = time.perf_counter()
            got = await grounder.ground(item["request"])
            wall = time.perf_counter() - started
            ok = right(item["expect"], got.kind, got.value)
            rows.append({"ok": ok, "wall": wall, "tokens": llm.session.completion_tokens - before})
            shown = got.value if got.kind == Kind.VALUE else f"{got.kind.value}: {got.needs or got.why}"
            print(
                f"{'right' if ok else 'WRONG':<5} {wall:>5.1f}s {item['request'][:64]:<64} -> {str(shown)[:40]:<40}"
                f" (expected {item['expect']!r})",
                flush=True,
            )
            if not ok:
                print("      " + got.program.strip().replace("\n", " | ")[:200], flush=True)
    finally:
        await llm.aclose()
        sandbox.close()
    n = len(rows)
    print(f"\nright: {sum(r['ok'] for r in rows)}/{n}")
    print(f"median time per request: {statistics.median(r['wall'] for r in rows):.1f}s")
    print(f"median generated tokens: {statistics.median(r['tokens'] for r in rows):.0f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", type=Path, default=None)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    asyncio.run(run(args.file or sorted(DATA.glob("*.json"))[-1], args.limit))


if __name__ == "__main__":
    main()
