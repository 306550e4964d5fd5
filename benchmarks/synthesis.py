"""The query flow on the local model, from an empty library: a fixed set of everyday requests
(benchmarks/data/requests.json, each with its expected answer), then the same requests reworded,
which should reuse the tools made the first time. Prints one row per request and a summary.

    .venv/bin/python benchmarks/synthesis.py [--limit N] [--baseline REV] [--keep-home DIR]

``--keep-home DIR`` builds the library in DIR and leaves it there, for `tools match` afterwards.

``--baseline REV`` first runs that commit's own copy of this benchmark (in a git worktree, with its
own sandbox image), then this one, and prints both summaries side by side with the ratio new/old.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from baseline import ROOT, checkout, child_env, ratio

from tui_agent.core.bus import EventBus
from tui_agent.core.config import load_settings
from tui_agent.core.events import DecisionMade, LLMCall, SynthesisStep
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


async def run(limit: int | None, keep: Path | None = None) -> None:
    items = json.loads(DATA.read_text())["requests"][:limit]
    home = keep or Path(tempfile.mkdtemp(prefix="selfeng-bench-synth-"))
    os.environ["SELFENG_HOME"] = str(home)
    settings = load_settings(
        home=home,
        import_starters=False,
        local_model_file=shared_model_file(),
        approve_new_tools="auto",  # nobody at the keyboard to say yes
    )
    bus = EventBus()
    failed_steps: list[str] = []
    decided: list[str] = []  # why the library's tools were not reused
    bus.subscribe(
        lambda e: (
            failed_steps.append(f"{e.step}: {e.detail}")
            if isinstance(e, SynthesisStep) and e.status == "failed"
            else None
        )
    )
    bus.subscribe(lambda e: decided.append(e.reason) if isinstance(e, DecisionMade) else None)
    generated: dict[str, int] = {}  # request -> tokens the model generated for it
    bus.subscribe(
        lambda e: (
            generated.__setitem__(e.request_id, generated.get(e.request_id, 0) + e.completion_tokens)
            if isinstance(e, LLMCall)
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
                decided.clear()
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
                        "generated": generated.get(outcome.request_id, 0),
                    }
                )
                print(
                    f"{phase:<8} {outcome.path:<11} {outcome.attempts:>3} {outcome.llm_calls:>5} {outcome.tokens:>6} "
                    f"{wall:>6.1f}s {'right' if right else 'WRONG':<5} {item[key][:48]:<48} -> {str(outcome.value)[:24]}",
                    flush=True,
                )
                if phase == "reworded" and outcome.path != "reused" and decided:
                    print(f"         not reused: {decided[0][:200]}", flush=True)
                if outcome.kind != "answer":
                    print(f"         why: {outcome.text[:200]}", flush=True)
                    for step in failed_steps:
                        print(f"           {step[:200]}", flush=True)
    finally:
        await services.aclose()
        if keep is None:
            shutil.rmtree(home, ignore_errors=True)
    summarize(rows)


def summarize(rows: list[dict[str, Any]]) -> None:
    print("\nphase     path       att calls tokens   wall  right request -> value  (table above)", flush=True)
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
            print(
                f"  median generated tokens per synthesis: {statistics.median(r['generated'] for r in synthesised):.0f}"
            )
        if reused:
            print(
                f"  reused: {len(reused)}; most LLM calls {max(r['calls'] for r in reused)}, "
                f"slowest {max(r['wall'] for r in reused):.1f}s"
            )
    print(
        "\ntargets: >= 80% right, all from verified tools; >= 80% of syntheses verified; "
        "median synthesised <= 90 s; a reused request <= 2 LLM calls and <= 15 s"
    )


SUMMARY = {
    "right": re.compile(r"^(first|reworded): (\d+)/(\d+) right"),
    "syntheses verified": re.compile(r"^\s+syntheses verified: (\d+)/(\d+)"),
    "median synthesised": re.compile(r"^\s+median synthesised request: ([\d.]+)s"),
    "generated tokens": re.compile(r"^\s+median generated tokens per synthesis: (\d+)"),
}


def summary_of(lines: list[str]) -> dict[str, str]:
    """The summary lines of one run, keyed "<phase> <what>": the same for every commit's copy."""
    found: dict[str, str] = {}
    phase = ""
    for line in lines:
        if match := SUMMARY["right"].match(line):
            phase = match[1]
            found[f"{phase} right"] = f"{match[2]}/{match[3]}"
        elif phase and (match := SUMMARY["syntheses verified"].match(line)):
            found[f"{phase} syntheses verified"] = f"{match[1]}/{match[2]}"
        elif phase and (match := SUMMARY["median synthesised"].match(line)):
            found[f"{phase} median synthesised"] = f"{match[1]}s"
        elif phase and (match := SUMMARY["generated tokens"].match(line)):
            found[f"{phase} generated tokens"] = match[1]
    return found


def run_and_read(command: list[str], cwd: Path, env: dict[str, str], label: str) -> dict[str, str]:
    """One commit's benchmark in a child process, shown as it goes, its summary read back."""
    lines = []
    with subprocess.Popen(
        command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as child:
        assert child.stdout is not None
        for line in child.stdout:
            print(f"{label} | {line}", end="", flush=True)
            lines.append(line)
    return summary_of(lines)


def compare(rev: str, limit: int | None) -> None:
    extra = ["--limit", str(limit)] if limit else []
    with checkout(rev) as (tree, image):
        old = run_and_read(
            [sys.executable, str(tree / "benchmarks" / "synthesis.py"), *extra],
            tree,
            child_env(tree, image),
            "old",
        )
    new = run_and_read(
        [sys.executable, str(Path(__file__).resolve()), *extra],
        ROOT,
        child_env(ROOT, "selfeng-sandbox:latest"),
        "new",
    )
    print(f"\n{'':<32} {'old ' + rev[:9]:>14} {'new':>10} {'new/old':>8}")
    for key in sorted(set(old) | set(new), key=lambda k: (not k.startswith("first"), k)):
        a, b = old.get(key, "-"), new.get(key, "-")
        both = key.endswith("median synthesised") and a != "-" and b != "-"
        print(f"{key:<32} {a:>14} {b:>10} {ratio(float(b[:-1]), float(a[:-1])) if both else '':>8}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--baseline", default=None, help="a commit to measure in the same run")
    parser.add_argument("--keep-home", type=Path, default=None, help="build the library here and keep it")
    args = parser.parse_args()
    if args.baseline:
        compare(args.baseline, args.limit)
    else:
        asyncio.run(run(args.limit, args.keep_home))


if __name__ == "__main__":
    main()
