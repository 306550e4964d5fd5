"""Reuse decisions and search speed. Prints tables.

    .venv/bin/python benchmarks/registry.py [--no-scale] [--no-decision] [--cache PATH]

1. The final reuse decision on the labelled set in benchmarks/data/reuse_labelled.json (the
   starters plus the tools it lists, their code in reuse_labelled_code.json; each request
   labelled with the tool that answers it exactly, or null for near misses: inverses, siblings,
   compound requests, a tool's words for another job). Search runs for every request; the local
   model works out each request's answer apart once and finds each candidate's arguments, and
   each ready candidate runs in the sandbox, once (kept in --cache); every (lexical weight,
   candidate threshold) is then replayed with the agent's rule (:mod:`flow.decide`). The setting
   is chosen on one half (F0.5) and reported on the held-out half.
2. Search latency at 1,000 and 10,000 tools (three phrasings each, real embeddings), and the
   time to rebuild the index from the files alone.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tui_agent.core.config import load_settings
from tui_agent.core.flow.executor import Executor
from tui_agent.core.flow.grounding import Grounder
from tui_agent.core.library.embeddings import Embedder
from tui_agent.core.library.registry import Registry
from tui_agent.core.library.sharing import import_starters
from tui_agent.core.llm import prompts
from tui_agent.core.llm.client import LLMClient
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.sandbox import make_sandbox
from tui_agent.core.tool.cases import TestCase, agrees
from tui_agent.core.tool.spec import ToolSpec

DATA = Path(__file__).resolve().parent / "data" / "reuse_labelled.json"
CODE = Path(__file__).resolve().parent / "data" / "reuse_labelled_code.json"
WEIGHTS = [0.0, 0.15, 0.3, 0.5]
THRESHOLDS = [round(0.2 + 0.025 * i, 3) for i in range(25)]
FIT_CHECKS = 2
VERIFIED = {"passed": True, "reason": None}


def fresh_registry(home: Path, embedder: Embedder) -> Registry:
    os.environ["SELFENG_HOME"] = str(home)
    registry = Registry(load_settings(home=home), embedder=embedder)
    registry.open(import_starters=False)
    return registry


def stub(spec: ToolSpec) -> tuple[str, list[TestCase]]:
    """A stand-in body for the search-at-scale tools, which are found and never run."""
    params = ", ".join(p.name for p in spec.parameters)
    args = {p.name: 1 for p in spec.parameters}
    return f"def {spec.function_name}({params}):\n    raise NotImplementedError\n", [
        TestCase(name="stub", args=args, raises="ValueError")
    ]


def add_specs(registry: Registry, specs: Iterable[ToolSpec]) -> None:
    """Each labelled tool with its code and its examples as its cases, as the library keeps it."""
    code = json.loads(CODE.read_text())["code"]
    for spec in specs:
        cases = [
            TestCase(name=f"example_{i}", args=e.args, expected=e.result) for i, e in enumerate(spec.examples)
        ]
        registry.add(
            spec.function_name, code[spec.function_name], "", spec.model_dump(), cases=cases, verdict=VERIFIED
        )


@dataclass
class Row:
    request: str
    labels: frozenset[str]  # the tools that answer it exactly (empty: none does)
    why: str
    held_out: bool
    parts: dict[str, tuple[float, float]]  # tool -> (dense, lexical)


def combined(row: Row, weight: float) -> list[tuple[str, float]]:
    return sorted(((n, d + weight * lx) for n, (d, lx) in row.parts.items()), key=lambda kv: -kv[1])


def decide(
    row: Row, weight: float, threshold: float, fits: dict[str, Any], strong: float
) -> tuple[str, str | None]:
    """The agent's rule (:mod:`flow.decide`), replayed: a request that needs live data or a
    person's value is refused or asked; candidates at or above the threshold are held in order,
    at most FIT_CHECKS (only strong ones when the answer was not worked out apart); the first
    ready one whose result agrees with the computed answer is reused."""
    grounding = fits["grounding"][row.request]
    if grounding["kind"] == "live":
        return "refuse", None
    if grounding["kind"] == "personal":
        return "ask", None
    computed = grounding["kind"] == "value"
    held = [c for c in combined(row, weight) if c[1] >= threshold and (computed or c[1] >= strong)]
    for name, _value in held[:FIT_CHECKS]:
        kind, value = fits["pairs"][row.request][name]
        if kind == "question" and not computed:
            return "ask", name
        if kind == "ready" and (not computed or agrees(value, grounding["value"])):
            return "reuse", name
    return "synthesise", None


def score(
    rows: list[Row], weight: float, threshold: float, fits: dict[str, Any], strong: float = 0.0
) -> dict[str, Any]:
    tp = fp = 0
    wrong = []
    for row in rows:
        decision, tool = decide(row, weight, threshold, fits, strong or STRONG)
        if decision != "reuse":
            if row.labels:
                said = str(fits["pairs"].get(row.request, {}).get(min(row.labels), "not checked"))[:120]
                wrong.append(f"missed {'/'.join(sorted(row.labels))}: {row.request} ({decision}; {said})")
            continue
        if tool in row.labels:
            tp += 1
        else:
            fp += 1
            wrong.append(f"WRONG reuse of {tool} ({row.why or 'other tool'}): {row.request}")
    positives = sum(1 for r in rows if r.labels)
    return {
        "precision": tp / (tp + fp) if tp + fp else 1.0,
        "recall": tp / positives if positives else 1.0,
        "tp": tp,
        "fp": fp,
        "positives": positives,
        "wrong": wrong,
    }


def prompts_key() -> str:
    return hashlib.sha256((prompts.GROUND_SYSTEM + prompts.ARGS_SYSTEM).encode()).hexdigest()[:12]


async def model_answers(registry: Registry, rows: list[Row], cache: Path | None) -> dict[str, Any]:
    """What the model and the sandbox say, for every request and candidate any setting could
    hold: the request's answer worked out apart, and per (request, tool) the prepared call's
    kind and, for a ready one, its result. Kept in ``cache`` (when given) for replays."""
    stored: dict[str, Any] = {}
    if cache is not None and cache.exists():
        loaded = json.loads(cache.read_text())
        if loaded.get("prompts") == prompts_key():
            stored = loaded
    groundings: dict[str, Any] = stored.setdefault("grounding", {})
    pairs: dict[str, dict[str, Any]] = stored.setdefault("pairs", {})
    stored["prompts"] = prompts_key()
    settings = registry.settings.model_copy(update={"local_model_file": shared_model_file()})
    llm = LLMClient(settings)
    box = make_sandbox(settings)
    executor = Executor(llm, box, registry)
    grounder = Grounder(llm, box)
    todo = []
    for row in rows:
        names = {n for w in WEIGHTS for n, v in combined(row, w)[:FIT_CHECKS] if v >= THRESHOLDS[0]}
        todo += [(row.request, n) for n in sorted(names) if n not in pairs.get(row.request, {})]
        if row.request not in groundings:
            todo.append((row.request, None))
    started = time.perf_counter()
    try:
        for i, (request, name) in enumerate(todo):
            if request not in groundings:  # one per request, as the agent makes
                grounding = await grounder.ground(request)
                groundings[request] = grounding.to_dict()
            if name is None:
                continue
            tool = registry.get(name)
            prepared = await executor.prepare(tool, request)
            value = None
            if prepared.kind == "ready":
                run = await executor.runner.run(tool, prepared)
                value = run.value if run.kind == "value" else None
                kind = "ready" if run.kind == "value" else "error"
            else:
                kind = str(prepared.kind)
            pairs.setdefault(request, {})[name] = [kind, value]
            if (i + 1) % 25 == 0:
                print(f"  model and sandbox: {i + 1}/{len(todo)}", flush=True)
    finally:
        await llm.aclose()
        box.close()
        if cache is not None:
            cache.parent.mkdir(parents=True, exist_ok=True)
            cache.write_text(json.dumps(stored, indent=1))
    seconds = time.perf_counter() - started
    if todo:
        print(f"  {len(todo)} asked of the local model and the sandbox in {seconds:.0f}s")
    return stored


STRONG = load_settings().similarity_threshold


def calibrate(embedder: Embedder, data_path: Path, cache: Path | None, phrasings: bool) -> None:
    data = json.loads(data_path.read_text())
    home = Path(tempfile.mkdtemp(prefix="selfeng-bench-reuse-"))
    try:
        registry = fresh_registry(home, embedder)
        box = make_sandbox(registry.settings)
        try:
            import_starters(registry.store, box.verify_sync)
        finally:
            box.close()
        add_specs(registry, (ToolSpec.model_validate(t) for t in data["tools"]))
        if not phrasings:  # the seed phrasings were written beside this data: measure without them
            for record in registry.store.records():
                registry.store.update(record.name, phrasings=[])
        registry.close()
        registry = fresh_registry(home, embedder)
        tools = len(registry.list())
        requests = data["requests"]
        print(
            f"\nReuse decision: {tools} tools, {len(requests)} requests ({sum(1 for r in requests if r['tool'])} reuse a tool)"
        )
        rows = []
        seen = {True: 0, False: 0}  # halves alternate within positives and within near misses
        for item in requests:
            found = registry.search(item["request"], k=8)
            parts = {c.name: (c.dense, c.lexical) for c in found.candidates}
            tool = item["tool"]
            labels = frozenset([tool] if isinstance(tool, str) else tool or [])
            held_out = seen[bool(labels)] % 2 == 1
            seen[bool(labels)] += 1
            rows.append(Row(item["request"], labels, item.get("why", ""), held_out, parts))
        print("\n  search alone: how often the right tool is first / in the top 2 (positives)")
        print(f"  {'lexical weight':>14} {'top-1':>6} {'top-2':>6}")
        for weight in WEIGHTS:
            positives = [r for r in rows if r.labels]
            top1 = sum(combined(r, weight)[0][0] in r.labels for r in positives) / len(positives)
            top2 = sum(bool(r.labels & {n for n, _ in combined(r, weight)[:2]}) for r in positives) / len(
                positives
            )
            print(f"  {weight:>14.2f} {top1:>6.2f} {top2:>6.2f}")
        fits = asyncio.run(model_answers(registry, rows, cache))
        kinds = {g["kind"] for g in fits["grounding"].values()}
        print(
            f"  answers worked out apart: {sum(g['kind'] == 'value' for g in fits['grounding'].values())} of {len(rows)} ({', '.join(sorted(kinds))})"
        )
        calibration = [r for r in rows if not r.held_out]
        held_out = [r for r in rows if r.held_out]
        chosen = None
        for weight in WEIGHTS:
            for threshold in THRESHOLDS:
                s = score(calibration, weight, threshold, fits)
                p, r = s["precision"], s["recall"]
                f_half = 1.25 * p * r / (0.25 * p + r) if p + r else 0.0  # precision counts twice
                key = (round(f_half, 6), p, -threshold)
                if chosen is None or key > chosen[0]:
                    chosen = (key, weight, threshold)
        assert chosen is not None
        _key, weight, threshold = chosen
        print(
            f"\n  the calibration half, lexical weight {weight}: precision and recall by candidate threshold"
        )
        print(f"  {'threshold':>9} {'precision':>9} {'recall':>6} {'wrong':>5}")
        for t in THRESHOLDS[::2]:
            s = score(calibration, weight, t, fits)
            print(f"  {t:>9.3f} {s['precision']:>9.3f} {s['recall']:>6.3f} {s['fp']:>5}")
        print(
            f"\n  chosen on the calibration half: lexical_weight = {weight}, candidate_threshold = {threshold}"
        )
        print(
            f"  {'half':<12} {'requests':>8} {'reuse right':>11} {'wrong reuse':>11} {'precision':>9} {'recall':>6}"
        )
        for label, part in (("calibration", calibration), ("held out", held_out)):
            s = score(part, weight, threshold, fits)
            print(
                f"  {label:<12} {len(part):>8} {s['tp']:>5}/{s['positives']:<5} {s['fp']:>11} "
                f"{s['precision']:>9.3f} {s['recall']:>6.3f}"
            )
        print("  targets on the held-out half: precision >= 0.97, recall >= 0.90")
        for part, label in ((calibration, "calibration"), (held_out, "held out")):
            for line in score(part, weight, threshold, fits)["wrong"]:
                print(f"    {label}: {line}")
        settings = load_settings()
        print(
            f"  in force: lexical_weight = {settings.lexical_weight}, candidate_threshold = "
            f"{settings.candidate_threshold}, fit_checks = {settings.fit_checks}"
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


VERBS = ["compute", "convert", "count", "format", "parse", "check", "estimate", "sort", "merge", "split"]
THINGS = [
    "prices",
    "distances",
    "dates",
    "words",
    "temperatures",
    "scores",
    "invoices",
    "colors",
    "files",
    "angles",
]
HOW = [
    "quickly",
    "exactly",
    "by region",
    "per month",
    "in bulk",
    "with rounding",
    "for reports",
    "as text",
    "from csv",
    "to json",
]


def synthetic_specs(count: int, offset: int = 0) -> list[ToolSpec]:
    specs = []
    for i in range(offset, offset + count):
        verb, thing, how = VERBS[i % 10], THINGS[(i // 10) % 10], HOW[(i // 100) % 10]
        specs.append(
            ToolSpec(
                function_name=f"{verb}_{thing}_{i}",
                description=f"{verb.title()} {thing} {how}, variant {i}.",
                docstring=f"Return the {thing} after they are {verb}ed {how}.",
                parameters=[{"name": "data", "type": "str", "description": f"the {thing}"}],
                return_type="str",
            )
        )
    return specs


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def scale(embedder: Embedder, sizes: list[int]) -> None:
    print(
        f"\n{'tools':>6} {'documents':>9} {'search p50 ms':>14} {'search p95 ms':>14} {'register p50 ms':>16} {'rebuild s':>10}"
    )
    for size in sizes:
        home = Path(tempfile.mkdtemp(prefix="selfeng-bench-reg-"))
        try:
            registry = fresh_registry(home, embedder)
            journal, registry.store.journal = registry.store.journal, None  # set-up: files only
            for spec in synthetic_specs(size):  # files only: the index is built from them below
                source, cases = stub(spec)
                registry.store.create(
                    spec.function_name,
                    source,
                    "",
                    spec.model_dump(),
                    cases=[c.model_dump() for c in cases],
                    verdict=VERIFIED,
                )
            registry.close()
            registry.index.close_local()  # the embedded index's cached connection goes with its files
            shutil.rmtree(home / "index", ignore_errors=True)
            started = time.perf_counter()
            registry = fresh_registry(home, embedder)  # the index rebuilt from the files alone
            registry.store.journal = journal  # a registration below is committed, as in use
            rebuild = time.perf_counter() - started
            documents = registry.index.count()
            queries = [f"{VERBS[i % 10]} some {THINGS[(i * 3) % 10]} {HOW[i % 10]}" for i in range(60)]
            registry.search("warm up")
            times = []
            for query in queries:
                t = time.perf_counter()
                registry.search(query)
                times.append((time.perf_counter() - t) * 1000)
            adds = []
            for spec in synthetic_specs(10, offset=size):
                source, cases = stub(spec)
                t = time.perf_counter()
                registry.add(spec.function_name, source, "", spec.model_dump(), cases=cases, verdict=VERIFIED)
                adds.append((time.perf_counter() - t) * 1000)
            print(
                f"{size:>6} {documents:>9} {statistics.median(times):>14.1f} {percentile(times, 0.95):>14.1f} "
                f"{statistics.median(adds):>16.1f} {rebuild:>10.1f}"
            )
        finally:
            shutil.rmtree(home, ignore_errors=True)
    print("target: a search under 50 ms at 10,000 tools")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-scale", action="store_true", help="the reuse decision only")
    parser.add_argument("--no-decision", action="store_true", help="search latency only")
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--cache", type=Path, default=None, help="keep the model's answers here for replays")
    parser.add_argument("--with-phrasings", action="store_true", help="keep the starters' seed phrasings")
    args = parser.parse_args()
    embedder = Embedder("all-MiniLM-L6-v2")
    started = time.perf_counter()
    embedder.load()
    print(f"embedding model loaded in {time.perf_counter() - started:.1f}s")
    if not args.no_decision:
        calibrate(embedder, args.data, args.cache, args.with_phrasings)
    if not args.no_scale:
        scale(embedder, [1000, 10000])


if __name__ == "__main__":
    main()
