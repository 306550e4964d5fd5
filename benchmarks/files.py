"""Requests that name files, on the local model, from a fresh library with the starter tools: five
questions over the small CSV, JSON and text files in benchmarks/data/files/ (each with its expected
answer), then requests that must be refused with a one-line reason (a file outside the working
directory, a file over the size limit). Runs in a temporary copy of that folder.

    .venv/bin/python benchmarks/files.py
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from tui_agent.core.config import load_settings
from tui_agent.core.llm.model_files import shared_model_file
from tui_agent.core.services import start_services

sys.path.insert(0, str(Path(__file__).resolve().parent))
from synthesis import is_right

FILES = Path(__file__).resolve().parent / "data" / "files"


async def run() -> None:
    data = json.loads((FILES / "requests.json").read_text())
    scratch = Path(tempfile.mkdtemp(prefix="selfeng-bench-files-"))
    here, home = scratch / "here", scratch / "home"
    shutil.copytree(FILES, here, ignore=shutil.ignore_patterns("requests.json"))
    for item in data["refused"]:
        if item.get("make_mb"):
            with (here / item["request"].split()[-1].rstrip("?")).open("wb") as big:
                big.truncate(item["make_mb"] * 1024 * 1024)
    os.chdir(here)
    os.environ["SELFENG_HOME"] = str(home)
    settings = load_settings(home=home, local_model_file=shared_model_file(), approve_new_tools="auto")
    services = await start_services(settings)
    right = refused = 0
    print(f"{'path':<11} {'wall':>6}  {'':<5} request -> value / reason")
    try:
        for item in data["requests"]:
            started = time.perf_counter()
            outcome = await services.orchestrator.handle(item["request"])
            wall = time.perf_counter() - started
            ok = outcome.kind == "answer" and outcome.verified
            ok = ok and is_right(outcome.value, item["expected"], item["check"])
            right += ok
            shown = outcome.value if outcome.kind == "answer" else outcome.text[:160]
            print(
                f"{outcome.path:<11} {wall:>6.1f}s {'right' if ok else 'WRONG':<5} {item['request']} -> {shown}",
                flush=True,
            )
        for item in data["refused"]:
            started = time.perf_counter()
            outcome = await services.orchestrator.handle(item["request"])
            wall = time.perf_counter() - started
            line = outcome.text.strip()
            ok = outcome.kind != "answer" and item["reason"] in line and "\n" not in line
            refused += ok
            print(
                f"{outcome.path:<11} {wall:>6.1f}s {'ok' if ok else 'WRONG':<5} {item['request']} -> {line[:160]}",
                flush=True,
            )
    finally:
        await services.aclose()
        shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\nanswered right: {right}/{len(data['requests'])}; "
        f"refused with a one-line reason: {refused}/{len(data['refused'])}"
    )
    print("target: every file request right, every refusal refused")


if __name__ == "__main__":
    asyncio.run(run())
