"""A library a team shares: pulling a remote of many tools into a fresh home. Prints a table.

    .venv/bin/python benchmarks/team.py [--tools 1000] [--queries 60]
    .venv/bin/python benchmarks/team.py --asks      # two asks sharing the local model

Home A makes N tools (real code, two cases each, verified once in the sandbox) and pushes them
to a bare repository on disk. Home B, fresh, pulls them: the time to fetch and read, to verify
every tool again in B's sandbox, to store, and then to build B's index. Search latency is
compared between A (made here) and B (pulled) on the same queries, interleaved: pulling must
not make search slower (target: p95 within 10%).

With ``--asks``: the two requests of benchmarks/data/team_asks.json, each made into a new tool
by ``ask`` in a fresh home with the local model, one after the other and then both at once. At
once they share one model server (the most seen running at a time is printed); the target is
within 1.2x of one after the other.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.registry import HOW, THINGS, VERBS, percentile, synthetic_specs
from tui_agent.core.config import load_settings
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.library.registry import Registry
from tui_agent.core.library.remotes import Remotes
from tui_agent.core.library.store import ToolStore
from tui_agent.core.sandbox import make_sandbox
from tui_agent.core.tool.cases import TestCase, render_tests


def make_tools(store: ToolStore, box: Any, count: int) -> float:
    """``count`` verified tools in ``store``; the seconds their verification took."""
    spent = 0.0
    for i, spec in enumerate(synthetic_specs(count)):
        name = spec.function_name
        source = f"def {name}(data: str) -> str:\n    return data.upper() + '{i}'\n"
        cases = [
            TestCase(name="word", args={"data": "ab"}, expected=f"AB{i}"),
            TestCase(name="empty", args={"data": ""}, expected=f"{i}"),
        ]
        started = time.perf_counter()
        verdict = box.verify_sync(source, name, cases)
        spent += time.perf_counter() - started
        assert verdict.passed, verdict.detail
        store.create(
            name,
            source,
            render_tests(name, cases),
            spec.model_dump(),
            cases=[c.model_dump() for c in cases],
            verdict=verdict.to_record(),
        )
    return spent


def opened(home: Path, embedder: Embedder) -> tuple[Registry, float]:
    registry = Registry(load_settings(home=home), embedder=embedder)
    started = time.perf_counter()
    registry.open(import_starters=False)
    return registry, time.perf_counter() - started


ASKS = Path(__file__).resolve().parent / "data" / "team_asks.json"
EXE = str(Path(sys.executable).parent / "selfeng-tui")


def model_servers() -> int:
    count = 0
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and b"tui_agent.core.llm.llama_server" in (proc / "cmdline").read_bytes():
                count += 1
    return count


def asks(requests: list[str], root: Path, together: bool) -> tuple[float, int, list[str]]:
    """Wall seconds, the most model servers seen at once, and each ask's last line."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SELFENG_")}
    started, most, outcomes = time.perf_counter(), 0, []
    batches = [requests] if together else [[r] for r in requests]
    root.mkdir(parents=True, exist_ok=True)
    for batch in batches:
        homes = [root / f"home{len(outcomes) + i}" for i in range(len(batch))]
        logs = [home.with_suffix(".jsonl") for home in homes]  # a file: a pipe nobody reads fills up
        running = []
        for home, log, request in zip(homes, logs, batch, strict=True):
            with log.open("w") as out:
                command = [
                    EXE,
                    "--home",
                    str(home),
                    "ask",
                    "--yes",
                    "--json",
                    "--set",
                    "import_starters=false",
                ]
                running.append(
                    subprocess.Popen([*command, request], stdout=out, stderr=subprocess.DEVNULL, env=env)
                )
        while any(p.poll() is None for p in running):
            most = max(most, model_servers())
            time.sleep(0.5)
        for log in logs:
            said = log.read_text().strip().splitlines()
            outcomes.append(json.loads(said[-1]).get("text", "")[:60] if said else "(nothing)")
    return time.perf_counter() - started, most, outcomes


def compare_asks() -> None:
    requests = json.loads(ASKS.read_text())["requests"]
    root = Path(tempfile.mkdtemp(prefix="selfeng-bench-asks-"))
    try:
        alone, most_alone, said_alone = asks(requests, root / "alone", together=False)
        both, most_both, said_both = asks(requests, root / "both", together=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(f"\n{'two asks':<22} {'seconds':>8} {'model servers at once':>22}")
    print(f"{'one after the other':<22} {alone:>8.1f} {most_alone:>22}")
    print(f"{'both at once':<22} {both:>8.1f} {most_both:>22}")
    print(f"ratio at once / one after the other: {both / alone:.2f} (target: within 1.20)")
    for label, said in (("alone", said_alone), ("at once", said_both)):
        print(f"answers {label}: {said}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tools", type=int, default=1000)
    parser.add_argument("--queries", type=int, default=60)
    parser.add_argument("--asks", action="store_true", help="two asks sharing the local model")
    args = parser.parse_args()
    if args.asks:
        compare_asks()
        return
    root = Path(tempfile.mkdtemp(prefix="selfeng-bench-team-"))
    try:
        hub = root / "hub.git"
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(hub)], check=True)
        box = make_sandbox(load_settings(home=root / "a", sandbox_pool=2))
        try:
            a = Remotes(ToolStore(root / "a" / "tools"), box.verify_sync)
            made = time.perf_counter()
            verify_a = make_tools(a.store, box, args.tools)
            made = time.perf_counter() - made
            a.add("team", str(hub))
            push = time.perf_counter()
            a.push("team")
            push = time.perf_counter() - push

            spent = [0.0]

            def timed_verify(*call: Any) -> Any:
                started = time.perf_counter()
                try:
                    return box.verify_sync(*call)
                finally:
                    spent[0] += time.perf_counter() - started

            b = Remotes(ToolStore(root / "b" / "tools"), timed_verify)
            b.add("team", str(hub))
            pull = time.perf_counter()
            notes = b.pull("team")
            pull = time.perf_counter() - pull
        finally:
            box.close()
        taken = sum("verified here" in note for note in notes)
        embedder = Embedder("all-MiniLM-L6-v2")
        embedder.load()
        registry_a, index_a = opened(root / "a", embedder)
        registry_b, index_b = opened(root / "b", embedder)
        queries = [f"{VERBS[i % 10]} some {THINGS[(i * 3) % 10]} {HOW[i % 10]}" for i in range(args.queries)]
        first = time.perf_counter()
        registry_b.search(queries[0])
        first = time.perf_counter() - first
        registry_a.search("warm up")
        times: dict[str, list[float]] = {"a": [], "b": []}
        for _round in range(3):
            for query in queries:
                for side, registry in (("a", registry_a), ("b", registry_b)):
                    started = time.perf_counter()
                    registry.search(query)
                    times[side].append((time.perf_counter() - started) * 1000)
        print(f"\n{args.tools} tools; pulled {taken} verified ({len(notes)} notes)")
        print(f"{'step':<40} {'seconds':>9}")
        rows = [
            ("A: make and verify (verification alone)", f"{made:.1f} ({verify_a:.1f})"),
            ("A: push", f"{push:.1f}"),
            ("B: pull, all of it", f"{pull:.1f}"),
            ("B: pull, verifying in B's sandbox", f"{spent[0]:.1f}"),
            ("B: pull, fetch + read + store", f"{pull - spent[0]:.1f}"),
            ("A: build the index", f"{index_a:.1f}"),
            ("B: build the index", f"{index_b:.1f}"),
            ("B: first search after the pull", f"{first:.2f}"),
        ]
        for step, value in rows:
            print(f"{step:<40} {value:>9}")
        p95a, p95b = percentile(times["a"], 0.95), percentile(times["b"], 0.95)
        print(f"\n{'search (ms)':<20} {'p50':>7} {'p95':>7}")
        for side, label in (("a", "A, made here"), ("b", "B, pulled")):
            print(f"{label:<20} {statistics.median(times[side]):>7.1f} {percentile(times[side], 0.95):>7.1f}")
        print(f"p95 ratio B/A: {p95b / p95a:.2f} (target: within 1.10)")
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
