"""Sandbox latency: p50/p95 of verification (6 cases of a small passing tool), one call, and the
floor (a bare `python -c pass` under the same isolation and limits), for each backend. Prints
a table.

    .venv/bin/python benchmarks/sandbox.py [--runs 20] [--baseline REV]

``--baseline REV`` measures that commit too, in the same run (a git worktree, its own sandbox
image), and prints the ratio new / old. Before the host judged verdicts, verification ran pytest
on a test file in the sandbox; now only the cases' arguments go in and the host compares.
"""

from __future__ import annotations

import argparse
import inspect
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import ROOT, checkout, child_env

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
def test_palindromes_and_short(text):
    assert reverse_string(text) == text[::-1]


def test_unicode():
    assert reverse_string("héllo") == "olléh"
"""
CASES = [
    {"name": "hello", "args": {"text": "hello"}, "expected": "olleh"},
    {"name": "empty", "args": {"text": ""}, "expected": ""},
    {"name": "a", "args": {"text": "a"}, "expected": "a"},
    {"name": "ab", "args": {"text": "ab"}, "expected": "ba"},
    {"name": "racecar", "args": {"text": "racecar"}, "expected": "racecar"},
    {"name": "unicode", "args": {"text": "héllo"}, "expected": "olléh"},
]
TARGETS = {"docker": 0.6, "bwrap": 0.25}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def measure(fn, runs: int) -> list[float]:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
        time.sleep(0.05)  # let a pooled container be re-created, as between real requests
    return times


def verifier(box):  # type: ignore[no-untyped-def]
    """verify() for whichever API this checkout has: (tool, tests, fn) or (tool, fn, cases)."""
    params = list(inspect.signature(box.verify_sync).parameters)
    if params[1] == "test_source":
        return lambda: box.verify_sync(TOOL, TESTS, "reverse_string")
    from tui_agent.core.tool.cases import TestCase

    cases = [TestCase.model_validate(c) for c in CASES]
    return lambda: box.verify_sync(TOOL, "reverse_string", cases)


def bench(image: str, runs: int) -> dict[str, dict[str, list[float]]]:
    """This checkout's sandbox, measured: backend -> operation -> seconds."""
    from tui_agent.core.sandbox import Limits, SandboxUnavailable
    from tui_agent.core.sandbox.bwrap_backend import BubblewrapSandbox
    from tui_agent.core.sandbox.docker_backend import DockerSandbox

    work = Path(tempfile.mkdtemp(prefix="selfeng-bench-"))
    found: dict[str, dict[str, list[float]]] = {}
    for name in ("docker", "bwrap"):
        try:
            box = (
                DockerSandbox(Limits(), work, image=image, pool_size=2)
                if name == "docker"
                else BubblewrapSandbox(Limits(), work)
            )
        except SandboxUnavailable as exc:
            print(f"{name}: unavailable ({exc})", file=sys.stderr)
            continue
        try:
            verify = verifier(box)
            verdict = verify()
            assert verdict.passed, verdict.detail
            time.sleep(0.5)
            found[name] = {
                "floor": measure(lambda: box.run_program(["python3", "-c", "pass"]), runs),  # noqa: B023
                "verify": measure(verify, runs),
                "call": measure(lambda: box.call_sync(TOOL, "reverse_string", {"text": "hello"}), runs),  # noqa: B023
            }
        finally:
            box.close()
    return found


def baseline(rev: str, runs: int) -> dict[str, dict[str, list[float]]]:
    """The same measurement on commit ``rev``, in a child process running that commit's code."""
    with checkout(rev) as (tree, image):
        code = (
            "import json, sys\n"
            f"sys.path.insert(0, {str(ROOT / 'benchmarks')!r})\n"
            "import tui_agent\n"
            f"assert tui_agent.__file__.startswith({str(tree)!r}), tui_agent.__file__\n"
            "import sandbox as bench\n"
            f"print('@@' + json.dumps(bench.bench({image!r}, {runs})))\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tree,
            env=child_env(tree, image),
            capture_output=True,
            text=True,
            check=True,
        )
    line = next(line for line in out.stdout.splitlines() if line.startswith("@@"))
    return json.loads(line[2:])


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--baseline", default=None, help="a commit to measure in the same run")
    args = parser.parse_args()
    old = baseline(args.baseline, args.runs) if args.baseline else {}
    new = bench("selfeng-sandbox:latest", args.runs)
    print(
        f"{'backend':<8} {'operation':<26} {'p50 s':>8} {'p95 s':>8}  {'old p50':>8}  {'new/old':>7}  target"
    )
    for backend, ops in new.items():
        for op, times in ops.items():
            p50 = statistics.median(times)
            label = {"floor": "python -c pass (floor)", "verify": "verify (6 cases)", "call": "call"}[op]
            before = old.get(backend, {}).get(op)
            ratio = f"{p50 / statistics.median(before):7.2f}" if before else "      -"
            old_p50 = f"{statistics.median(before):8.3f}" if before else "       -"
            target = ""
            if op == "verify":
                target = f"p50 <= {TARGETS[backend]:.2f} s" + (
                    "  met" if p50 <= TARGETS[backend] else "  MISSED"
                )
                if before:
                    target += "; <= 1.20x old" + (
                        "  met" if p50 <= 1.2 * statistics.median(before) else "  MISSED"
                    )
            print(
                f"{backend:<8} {label:<26} {p50:>8.3f} {percentile(times, 0.95):>8.3f}  {old_p50}  {ratio}  {target}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
