"""Sandbox latency: p50/p95 of `verify` on a small passing tool, `call`, and the floor (a bare
`python -c pass` under the same isolation and limits), for each backend. Prints a table.

    .venv/bin/python benchmarks/sandbox.py [--runs 20]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from tui_agent.core.sandbox import Limits, SandboxUnavailable
from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox
from tui_agent.core.sandbox.docker_backend import DockerSandbox

TOOL = '''
def reverse_string(text: str) -> str:
    """The characters of text in reverse order."""
    return text[::-1]
'''
TESTS = """
import pytest
from tool import reverse_string


def test_hello():
    assert reverse_string("hello") == "olleh"


def test_empty():
    assert reverse_string("") == ""


@pytest.mark.parametrize("text", ["a", "ab", "racecar"])
def test_round_trip(text):
    assert reverse_string(reverse_string(text)) == text


def test_unicode():
    assert reverse_string("héllo") == "olléh"
"""
TARGETS = {"docker": 0.6, "bwrap": 0.25}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(label: str, fn, runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        time.sleep(0.05)  # let a pooled container be re-created, as between real requests
    return times


def bench(box, runs: int) -> tuple[list[float], list[float], list[float]]:
    verdict = box.verify_sync(TOOL, TESTS, "reverse_string")
    assert verdict.passed, verdict.detail
    time.sleep(0.5)
    floor = measure("floor", lambda: box.run_program(["python3", "-c", "pass"]), runs)
    verify = measure("verify", lambda: box.verify_sync(TOOL, TESTS, "reverse_string"), runs)
    call = measure("call", lambda: box.call_sync(TOOL, "reverse_string", {"text": "hello"}), runs)
    return floor, verify, call


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="selfeng-bench-"))
    rows = []
    for name in ("docker", "bwrap"):
        try:
            box = (
                DockerSandbox(Limits(), work, image="selfeng-sandbox:latest", pool_size=2)
                if name == "docker"
                else BubblewrapSandbox(Limits(), work)
            )
        except SandboxUnavailable as exc:
            print(f"{name}: unavailable ({exc})", file=sys.stderr)
            continue
        try:
            floor, verify, call = bench(box, args.runs)
        finally:
            box.close()
        for what, times in (("python -c pass (floor)", floor), ("verify (6 tests)", verify), ("call", call)):
            rows.append((name, what, statistics.median(times), percentile(times, 0.95)))
    print(f"{'backend':<8} {'operation':<24} {'p50 s':>8} {'p95 s':>8}  target")
    for name, what, p50, p95 in rows:
        target = f"p50 <= {TARGETS[name]:.2f} s" if what.startswith("verify") else ""
        ok = "" if not target else ("  met" if p50 <= TARGETS[name] else "  MISSED")
        print(f"{name:<8} {what:<24} {p50:>8.3f} {p95:>8.3f}  {target}{ok}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
