"""Wall time of the command line, each command a fresh process: `--version`, `tools list`,
`tools search`, a reused `ask` and a synthesised `ask`; several runs, median and max, and each
one's ratio to `--version`. With ``--baseline REV`` the same commands of that commit run in the
same session (a git worktree with its own sandbox image and home), and the table gives new/old.

    .venv/bin/python benchmarks/cli.py [--runs 5] [--baseline REV] [--no-synthesis]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from baseline import checkout, child_env

from tui_agent.core.llm.model_files import shared_model_file

ROOT = Path(__file__).resolve().parent.parent
MODEL = shared_model_file()
REUSED = "What is 15% of 300?"
SYNTHESISED = [
    "What is the sum of the digits of 98765?",
    "How many vowels are in the word 'education'?",
    "What is the greatest common divisor of 48 and 18?",
    "What is 2 to the power of 10?",
    "Is 'racecar' a palindrome?",
]


class Version:
    """One checkout's `selfeng-tui`, run as ``python -m tui_agent`` with its own home."""

    def __init__(self, label: str, tree: Path, image: str) -> None:
        self.label = label
        self.tree = tree
        self.image = image
        self.home = Path(tempfile.mkdtemp(prefix=f"selfeng-bench-cli-{label}-"))

    def env(self, home: Path | None = None) -> dict[str, str]:
        return child_env(
            self.tree,
            self.image,
            SELFENG_HOME=str(home or self.home),
            SELFENG_LOCAL_MODEL_FILE=str(MODEL),
            SELFENG_APPROVE_NEW_TOOLS="auto",
        )

    def run(self, *args: str, home: Path | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tui_agent", *args],
            capture_output=True,
            text=True,
            env=self.env(home),
            cwd=self.tree,  # `python -m` puts the working directory first on sys.path
            timeout=900,
        )
        return time.perf_counter() - started, done


def warm(version: Version) -> None:
    version.run("tools", "list")  # the starters are imported and verified once, not measured
    version.run("tools", "search", "warm up")  # and the index is built once


def one_round(version: Version, rows: dict[str, list[float]]) -> None:
    """Each command once. Versions take turns round by round, so a machine that gets busier or
    quieter during the run weighs on both alike."""
    for name, args in (
        ("--version", ("--version",)),
        ("tools list", ("tools", "list")),
        ("tools search", ("tools", "search", "convert kilometres to miles")),
        ("ask, reused", ("ask", REUSED, "--yes")),
    ):
        seconds, done = version.run(*args)
        if done.returncode != 0:
            print(f"  {version.label} {name} failed: {done.stderr.strip()[-200:]}", file=sys.stderr)
        elif name == "ask, reused" and name not in rows:  # what was timed: the answer itself
            print(f"  {version.label}: {REUSED!r} -> {done.stdout.strip()[-120:]}", flush=True)
        rows.setdefault(name, []).append(seconds)


def synthesised(version: Version, runs: int, rows: dict[str, list[float]]) -> None:
    for request in SYNTHESISED[:runs]:
        fresh = Path(tempfile.mkdtemp(prefix="selfeng-bench-cli-fresh-"))
        try:
            shutil.copytree(version.home, fresh, dirs_exist_ok=True)
            seconds, done = version.run("ask", request, "--yes", home=fresh)
            state = "answered" if done.returncode == 0 else f"exit {done.returncode}"
            print(f"  {version.label}: synthesised ask {request!r}: {seconds:.1f}s, {state}", flush=True)
            rows.setdefault("ask, synthesised", []).append(seconds)
        finally:
            shutil.rmtree(fresh, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--baseline", default=None, help="a commit to measure in the same run")
    parser.add_argument("--no-synthesis", action="store_true")
    args = parser.parse_args()
    versions = [Version("new", ROOT, "selfeng-sandbox:latest")]
    results = {}
    with contextlib.ExitStack() as stack:
        if args.baseline:
            tree, image = stack.enter_context(checkout(args.baseline))
            versions.insert(0, Version("old", tree, image))
        try:
            results = {version.label: {} for version in versions}
            for version in versions:
                print(f"warming {version.label} ({version.tree})", flush=True)
                warm(version)
            for _ in range(args.runs):
                for version in versions:
                    one_round(version, results[version.label])
            if not args.no_synthesis:
                for version in versions:
                    synthesised(version, args.runs, results[version.label])
        finally:
            for version in versions:
                shutil.rmtree(version.home, ignore_errors=True)
    new, old = results["new"], results.get("old", {})
    print(
        f"\n{'command':<18} {'median s':>9} {'max s':>7} {'x --version':>11}  {'old median':>10} {'new/old':>7}"
    )
    version_median = statistics.median(new["--version"])
    for name, times in new.items():
        median = statistics.median(times)
        before = f"{statistics.median(old[name]):>10.2f}" if name in old else f"{'-':>10}"
        ratio = f"{median / statistics.median(old[name]):>7.2f}" if name in old else f"{'-':>7}"
        print(
            f"{name:<18} {median:>9.2f} {max(times):>7.2f} {median / version_median:>11.1f}  {before} {ratio}"
        )
    print(
        "targets: tools list < 1.0 s and < 4x --version; a reused ask <= 0.45x before; synthesised <= 0.70x"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
