"""Tools that learn from one correction, on the local model. Five deliberately wrong tools (off by
one, wrong rounding, wrong unit factor, raises on a valid input, wrong edge case) are imported as
plain folders whose own tests miss the bug; each is corrected once through `tools fix`. Prints,
per tool: fixed or not, attempts, time, whether every earlier case is still kept and passes, and
whether the corrected arguments now give the right answer.

    .venv/bin/python benchmarks/learn.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

EXE = str(Path(sys.executable).parent / "selfeng-tui")

WRONG: list[dict[str, Any]] = [
    {
        "kind": "off by one",
        "tool": '''def count_multiples(limit: int, k: int) -> int:
    """How many multiples of k lie between 1 and limit, limit included."""
    return len(range(k, limit, k))
''',
        "tests": "from tool import count_multiples\n\n"
        "def test_ten_by_three():\n    assert count_multiples(10, 3) == 3\n\n"
        "def test_seven_by_two():\n    assert count_multiples(7, 2) == 3\n",
        "args": {"limit": 10, "k": 5},
        "expected": 2,
    },
    {
        "kind": "wrong rounding",
        "tool": '''def round_price(amount: float) -> float:
    """The amount rounded to the nearest cent (two decimals)."""
    return int(amount * 100) / 100
''',
        "tests": "from tool import round_price\n\n"
        "def test_whole():\n    assert round_price(1.5) == 1.5\n\n"
        "def test_pi():\n    assert round_price(3.14159) == 3.14\n",
        "args": {"amount": 2.678},
        "expected": 2.68,
    },
    {
        "kind": "wrong unit factor",
        "tool": '''def to_meters(value: float, unit: str) -> float:
    """A length in cm, km or ft, converted to meters."""
    factors = {"cm": 0.01, "km": 1000.0, "ft": 0.3}
    return value * factors[unit]
''',
        "tests": "from tool import to_meters\n\n"
        "def test_cm():\n    assert to_meters(250, 'cm') == 2.5\n\n"
        "def test_km():\n    assert to_meters(3, 'km') == 3000.0\n",
        "args": {"value": 10, "unit": "ft"},
        "expected": 3.048,
    },
    {
        "kind": "raises on a valid input",
        "tool": '''def share_of(value: float, percent: float) -> float:
    """percent % of value; percent may be above 100."""
    if percent > 100:
        raise ValueError("percent must be at most 100")
    return value * percent / 100
''',
        "tests": "from tool import share_of\n\n"
        "def test_fifteen():\n    assert share_of(300, 15) == 45.0\n\n"
        "def test_half():\n    assert share_of(200, 50) == 100.0\n",
        "args": {"value": 80, "percent": 150},
        "expected": 120.0,
    },
    {
        "kind": "wrong edge case",
        "tool": '''def is_prime(n: int) -> bool:
    """Whether n is a prime number."""
    for d in range(2, int(n ** 0.5) + 1):
        if n % d == 0:
            return False
    return True
''',
        "tests": "from tool import is_prime\n\n"
        "def test_seven():\n    assert is_prime(7) is True\n\n"
        "def test_ten():\n    assert is_prime(10) is False\n\n"
        "def test_two():\n    assert is_prime(2) is True\n",
        "args": {"n": 1},
        "expected": False,
    },
]


def cli(*args: str, key: str = "") -> tuple[int, Any]:
    """The command's last JSON line, or with ``key`` the last one that has it (``tools fix``
    prints its events before the outcome, and the services' shutdown may print after it)."""
    done = subprocess.run([EXE, *args, "--json"], capture_output=True, text=True, timeout=1800)
    found = []
    for line in done.stdout.splitlines():
        try:
            found.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    found = [d for d in found if isinstance(d, dict) and (not key or key in d)]
    return done.returncode, found[-1] if found else {"error": (done.stderr or done.stdout).strip()[-300:]}


def case_keys(record: dict[str, Any]) -> set[str]:
    return {
        json.dumps([c["args"], c.get("expected"), c.get("raises")], sort_keys=True)
        for c in record.get("cases", [])
    }


def one(item: dict[str, Any], scratch: Path) -> dict[str, Any]:
    name = item["tool"].split("(")[0].removeprefix("def ")
    folder = scratch / name
    folder.mkdir()
    (folder / "tool.py").write_text(item["tool"])
    (folder / "test_tool.py").write_text(item["tests"])
    code, imported = cli("tools", "import", str(folder), "--yes")
    if code != 0:
        return {"kind": item["kind"], "name": name, "status": f"import failed: {imported}"}
    started = time.perf_counter()
    args, expected = json.dumps(item["args"]), json.dumps(item["expected"])
    _, fixed = cli("tools", "fix", name, "--args", args, "--expected", expected, key="status")
    seconds = time.perf_counter() - started
    _, shown = cli("tools", "show", name)
    now = shown.get("record", shown)
    test_code, verdict = cli("tools", "test", name)
    kept = case_keys(imported) <= case_keys(now) and now.get("version", 0) > imported["version"]
    return {
        "kind": item["kind"],
        "name": name,
        "status": fixed.get("status", fixed.get("error", "?")),
        "attempts": fixed.get("attempts", 0),
        "seconds": seconds,
        "kept": kept and test_code == 0 and verdict.get("passed") is True,
        "cases": len(now.get("cases", [])),
        "message": fixed.get("message", ""),
    }


def main() -> None:
    scratch = Path(tempfile.mkdtemp(prefix="selfeng-bench-learn-"))
    os.environ["SELFENG_HOME"] = str(scratch / "home")
    os.environ["SELFENG_IMPORT_STARTERS"] = "false"
    rows = []
    print(f"{'kind':<24} {'tool':<16} {'status':<10} {'att':>3} {'time':>7}  old cases kept and passing")
    for item in WRONG:
        row = one(item, scratch)
        rows.append(row)
        print(
            f"{row['kind']:<24} {row['name']:<16} {row['status'][:10]:<10} {row.get('attempts', 0):>3} "
            f"{row.get('seconds', 0):>6.1f}s  {row.get('kept', False)} ({row.get('cases', 0)} cases now)",
            flush=True,
        )
        if row["status"] != "repaired":
            print(f"    {row.get('message', '')[:200]}")
    fixed = sum(r["status"] == "repaired" and r.get("kept") for r in rows)
    print(f"\nfixed with one correction, earlier cases kept: {fixed}/{len(rows)} (target >= 4/5)")


if __name__ == "__main__":
    main()
