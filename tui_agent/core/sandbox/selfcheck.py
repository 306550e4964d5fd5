"""`selfeng-tui sandbox check`: hostile probes against a live backend, and which layer stopped
each. A probe that is not stopped is a failure of the check (exit code 1)."""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass

from tui_agent.core.sandbox.base import Sandbox
from tui_agent.core.sandbox.results import CallResult, Reason
from tui_agent.core.tool.cases import TestCase

PRELUDE = "import os, time, socket\n"


@dataclass(frozen=True)
class ProbeResult:
    probe: str
    backend: str
    stopped: bool
    layer: str
    detail: str


@dataclass(frozen=True)
class _Probe:
    name: str
    layer: str
    body: str
    judge: Callable[[CallResult, dict[str, str]], tuple[bool, str]]


def _reason(expected: Reason) -> Callable[[CallResult, dict[str, str]], tuple[bool, str]]:
    return lambda r, _ctx: (r.reason is expected, r.reason.value if r.reason else f"ok: {r.value!r}"[:80])


def _value(
    test: Callable[[object, dict[str, str]], bool],
) -> Callable[[CallResult, dict[str, str]], tuple[bool, str]]:
    return lambda r, ctx: (r.ok and test(r.value, ctx), repr(r.value)[:80] if r.ok else r.error[:80])


PROBES = [
    _Probe(
        "infinite loop", "host-side wall-clock timer", "while True:\n        pass", _reason(Reason.TIMEOUT)
    ),
    _Probe(
        "memory bomb",
        "memory limit",
        "x = []\n    while True:\n        x.append(b'x' * 2**24)",
        _reason(Reason.MEMORY),
    ),
    _Probe(
        "fork bomb",
        "process limit",
        "n = 0\n    try:\n        while True:\n            if os.fork() == 0:\n                time.sleep(60)\n"
        "                os._exit(0)\n            n += 1\n    except OSError:\n        return n",
        _value(lambda v, ctx: isinstance(v, int) and v < int(ctx["pids"])),
    ),
    _Probe(
        "endless output",
        "output cap",
        "while True:\n        print('x' * 4096, flush=True)",
        _reason(Reason.OUTPUT_TOO_LARGE),
    ),
    _Probe(
        "network",
        "network namespace",
        "try:\n        socket.create_connection(('127.0.0.1', int(PORT)), timeout=2)\n        return 'connected'\n"
        "    except OSError as e:\n        return type(e).__name__",
        _value(lambda v, _ctx: v != "connected"),
    ),
    _Probe(
        "environment secret",
        "scrubbed environment",
        "seen = str(dict(os.environ))\n    for p in ('self', '1'):\n        try:\n"
        "            seen += open('/proc/%s/environ' % p, 'rb').read().decode('latin-1')\n"
        "        except OSError:\n            pass\n    return seen",
        _value(lambda v, ctx: ctx["canary"] not in str(v)),
    ),
    _Probe(
        "host file",
        "filesystem view",
        "try:\n        return open(HOST_FILE).read()\n    except OSError as e:\n        return type(e).__name__",
        _value(lambda v, ctx: ctx["secret"] not in str(v)),
    ),
    _Probe(
        "write the workspace",
        "read-only workspace",
        "try:\n        open('/work/tool.py', 'w').write('x')\n        return 'wrote'\n    except OSError as e:\n"
        "        return type(e).__name__",
        _value(lambda v, _ctx: v != "wrote"),
    ),
    _Probe(
        "become root",
        "unprivileged user",
        "try:\n        os.setuid(0)\n        return 'root'\n    except OSError as e:\n        return [os.getuid(), type(e).__name__]",
        _value(lambda v, _ctx: v != "root" and isinstance(v, list) and v[0] != 0),
    ),
]

# A tool that cannot compute the answer tries to pass anyway: by an object equal to everything,
# and by printing a report of its own (with every string it can find standing in for the
# runner's secret) and leaving before the runner reports. The host compares values it never
# sent, so both stay red.
FORGERIES = {
    "forged verdict (always-equal value)": (
        "class Anything:\n    def __eq__(self, other):\n        return True\n\n"
        "def probe(x):\n    return Anything()\n"
    ),
    "forged verdict (fake report)": (
        "import os, sys\n"
        "found, frame = set(), sys._getframe(0)\n"
        "while frame is not None:\n"
        "    for v in list(frame.f_locals.values()):\n"
        "        found.update(x for x in (list(v.values()) if isinstance(v, dict) else [v]) if isinstance(x, str))\n"
        "    frame = frame.f_back\n"
        "for s in found:\n"
        '    line = \'@@SELFENG-REPORT %s {"outcomes": [{"value": 1}, {"value": 1}]}\\n\' % s\n'
        "    os.write(1, line.encode())\n"
        "os._exit(0)\n"
        "def probe(x):\n    return 1\n"
    ),
}
FORGED_CASES = [
    TestCase(name="first", args={"x": 1}, expected=42),
    TestCase(name="second", args={"x": 2}, expected="forty-two"),
]


def run_checks(box: Sandbox) -> list[ProbeResult]:
    canary = "canary-" + secrets.token_hex(8)
    secret = "secret-" + secrets.token_hex(8)
    results: list[ProbeResult] = []
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    host_file = box.work_root / f"selfcheck-{secrets.token_hex(4)}.txt"
    box.work_root.mkdir(parents=True, exist_ok=True)
    host_file.write_text(secret)
    os.environ["SELFENG_SELFCHECK_CANARY"] = canary
    context = {"canary": canary, "secret": secret, "pids": str(box.limits.pids)}
    try:
        for probe in PROBES:
            source = (
                PRELUDE
                + f"PORT = {listener.getsockname()[1]}\nHOST_FILE = {str(host_file)!r}\n"
                + "def probe():\n    "
                + probe.body
                + "\n"
            )
            result = box.call_sync(source, "probe", {}, gate=False)
            stopped, detail = probe.judge(result, context)
            results.append(ProbeResult(probe.name, box.name, stopped, probe.layer, detail))
        gated = box.call_sync(
            "import subprocess\ndef probe():\n    return subprocess.run(['id'])\n", "probe", {}
        )
        results.append(
            ProbeResult(
                "starting a program",
                box.name,
                gated.reason is Reason.REJECTED,
                "static gate",
                gated.error[:80],
            )
        )
        for name, source in FORGERIES.items():
            forged = box.verify_sync(source, "probe", FORGED_CASES, gate=False)
            verdict = "green" if forged.passed else f"red ({forged.reason}: {forged.detail})"
            results.append(ProbeResult(name, box.name, not forged.passed, "the host judges", verdict[:80]))
    finally:
        os.environ.pop("SELFENG_SELFCHECK_CANARY", None)
        listener.close()
        host_file.unlink(missing_ok=True)
    return results


def format_results(results: list[ProbeResult]) -> str:
    width = max(len(r.probe) for r in results)
    lines = [f"{'probe':<{width}}  backend  {'stopped by':<26}  result"]
    for r in results:
        mark = "stopped" if r.stopped else "NOT STOPPED"
        lines.append(f"{r.probe:<{width}}  {r.backend:<7}  {r.layer:<26}  {mark}: {r.detail}")
    return "\n".join(lines)
