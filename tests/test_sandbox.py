"""Hostile code against both real backends: each attack ends safely, with the right reason, within
the timeout plus a small grace, leaving no container or process behind and no host file changed.

Most attacks run with the static gate switched off (``gate=False``) so the runtime layers are
what stops them; the gate itself is tested in test_static_gate.py and at the end here."""

from __future__ import annotations

import hashlib
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sandbox_support import (
    BACKENDS,
    GRACE_S,
    HONEST_CASES,
    HONEST_TOOL,
    TEST_LIMITS,
    leaving_nothing_behind,
    processes_matching,
)
from tui_agent.core.bus import EventBus
from tui_agent.core.events import SandboxOutput
from tui_agent.core.sandbox import Reason, Sandbox


@pytest.fixture(params=BACKENDS)
def sandbox(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Sandbox]:
    yield from leaving_nothing_behind(request.param, tmp_path / "work")


def call(box: Sandbox, body: str, args: dict[str, object] | None = None, *, gate: bool = False):
    source = "def attack(**kwargs):\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"
    source = "import os, sys, time, socket, threading\n" + source
    started = time.monotonic()
    result = box.call_sync(source, "attack", args or {}, gate=gate)
    elapsed = time.monotonic() - started
    assert elapsed < TEST_LIMITS.timeout_s + GRACE_S, f"took {elapsed:.1f}s"
    return result


# --- a correct tool is green, and calls work --------------------------------------------


def test_honest_tool_verifies_green_and_streams_output(sandbox: Sandbox) -> None:
    verdict = sandbox.verify_sync(HONEST_TOOL, "percentage_of", HONEST_CASES)
    assert verdict.passed, verdict.detail + verdict.output
    assert verdict.reason is None
    assert (verdict.counts.collected, verdict.counts.passed) == (6, 6)
    assert {t.outcome for t in verdict.tests} == {"passed"}


def test_a_process_with_more_than_a_thousand_files_open_still_verifies(sandbox: Sandbox) -> None:
    """A long-lived process (a dashboard, the MCP server, a test session) can hold many files:
    the sandbox's own descriptors then number past 1023, which select() refused."""
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        verdict = sandbox.verify_sync(HONEST_TOOL, "percentage_of", HONEST_CASES)
    finally:
        for fd in held:
            os.close(fd)
    assert verdict.passed, verdict.detail + verdict.output


async def test_judged_cases_arrive_as_output_lines(sandbox: Sandbox) -> None:
    bus = EventBus()
    sandbox.bus = bus
    lines: list[str] = []
    bus.subscribe(lambda e: lines.append(e.line) if isinstance(e, SandboxOutput) else None)
    chatty = HONEST_TOOL.replace(
        '    """percent % of value."""', '    """percent % of value."""\n    print("computing", value)'
    )
    verdict = await sandbox.verify(chatty, "percentage_of", HONEST_CASES, request_id="r1")
    await bus.drain()
    assert verdict.passed
    assert "computing 300" in lines  # the tool's own output streams while it runs
    assert "✓ test_fifteen_percent_of_300" in lines
    assert lines[-1] == "6 of 6 cases passed (judged on the host)"
    assert not any("@@SELFENG" in line for line in lines)


def test_call_returns_json_value_and_typed_errors(sandbox: Sandbox) -> None:
    ok = sandbox.call_sync(HONEST_TOOL, "percentage_of", {"value": 300, "percent": 15})
    assert ok.ok and ok.value == 45
    raised = sandbox.call_sync(HONEST_TOOL, "percentage_of", {"value": "x", "percent": 15})
    assert not raised.ok and raised.reason is Reason.RAISED and raised.error_type == "TypeError"
    assert raised.error == "TypeError: numbers only"


def test_failing_tests_are_red_with_each_outcome(sandbox: Sandbox) -> None:
    wrong = HONEST_TOOL.replace("value * percent / 100", "value * percent / 10")
    verdict = sandbox.verify_sync(wrong, "percentage_of", HONEST_CASES)
    assert not verdict.passed and verdict.reason is Reason.TESTS_FAILED
    assert verdict.counts.failed >= 3
    failing = {t.name for t in verdict.failing}
    assert "test_fifteen_percent_of_300" in failing
    assert "expected 45, got 450.0" in next(
        t.message for t in verdict.tests if t.name == "test_fifteen_percent_of_300"
    )


# --- resource attacks -------------------------------------------------------------------


def test_infinite_loop_times_out(sandbox: Sandbox) -> None:
    result = call(sandbox, "while True:\n    pass")
    assert result.reason is Reason.TIMEOUT


def test_sleep_forever_times_out(sandbox: Sandbox) -> None:
    result = call(sandbox, "time.sleep(10**6)")
    assert result.reason is Reason.TIMEOUT


def test_fork_bomb_is_held_at_the_process_limit(sandbox: Sandbox) -> None:
    result = call(
        sandbox,
        """
n = 0
try:
    while True:
        if os.fork() == 0:
            time.sleep(1000)
            os._exit(0)
        n += 1
except OSError:
    return n
""",
    )
    assert result.ok, result.error
    assert result.value < TEST_LIMITS.pids


def test_endless_fork_bomb_is_killed(sandbox: Sandbox) -> None:
    result = call(sandbox, "while True:\n    try:\n        os.fork()\n    except OSError:\n        pass")
    assert result.reason is Reason.TIMEOUT


def test_thread_bomb_is_held_at_the_process_limit(sandbox: Sandbox) -> None:
    result = call(
        sandbox,
        """
n = 0
try:
    while True:
        threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
        n += 1
except RuntimeError:
    return n
""",
    )
    assert result.ok, result.error
    assert result.value < TEST_LIMITS.pids


def test_memory_bomb_is_killed_for_memory(sandbox: Sandbox) -> None:
    result = call(sandbox, "hoard = []\nwhile True:\n    hoard.append(b'x' * (16 * 1024 * 1024))")
    assert result.reason is Reason.MEMORY


def test_tmp_fill_stops_at_the_tmp_limit(sandbox: Sandbox) -> None:
    result = call(
        sandbox,
        """
written = 0
try:
    with open('/tmp/fill', 'wb') as f:
        while True:
            f.write(b'x' * 65536)
            f.flush()
            written += 65536
except OSError as exc:
    return [written, type(exc).__name__]
""",
    )
    assert result.ok, result.error
    written, _error = result.value
    assert written <= TEST_LIMITS.tmp_mb * 1024 * 1024


def test_printing_without_end_is_cut(sandbox: Sandbox) -> None:
    result = call(sandbox, "while True:\n    print('x' * 1000, flush=True)")
    assert result.reason is Reason.OUTPUT_TOO_LARGE
    assert len(result.output) <= TEST_LIMITS.output_bytes + 8192


def test_huge_return_value_is_refused(sandbox: Sandbox) -> None:
    result = call(sandbox, "return 'x' * (8 * 1024 * 1024)")
    assert result.reason is Reason.OUTPUT_TOO_LARGE


# --- escapes ------------------------------------------------------------------------------


def test_tool_and_test_files_cannot_be_written(sandbox: Sandbox) -> None:
    result = call(
        sandbox,
        """
errors = []
for path in ('/work/tool.py', '/work/test_tool.py', '/work/conftest.py', '/usr/evil', '/evil'):
    try:
        with open(path, 'w') as f:
            f.write('pwned')
        errors.append('WROTE ' + path)
    except OSError as exc:
        errors.append(type(exc).__name__)
return errors
""",
    )
    assert result.ok, result.error
    assert not any(str(e).startswith("WROTE") for e in result.value), result.value


def test_network_is_unreachable(sandbox: Sandbox) -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    try:
        result = call(
            sandbox,
            """
try:
    socket.create_connection(('127.0.0.1', kwargs['port']), timeout=2).close()
    return 'connected'
except OSError as exc:
    return type(exc).__name__
""",
            {"port": port},
        )
        assert result.ok and result.value != "connected"
        with pytest.raises(TimeoutError):
            listener.accept()  # nothing reached the host's loopback
    finally:
        listener.close()


def test_parent_environment_secret_is_not_visible(sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    canary = "canary-" + hashlib.sha256(os.urandom(8)).hexdigest()[:16]
    monkeypatch.setenv("SELFENG_TEST_CANARY", canary)
    result = call(
        sandbox,
        """
seen = [repr(dict(os.environ))]
for pid in ['self', '1'] + [p for p in os.listdir('/proc') if p.isdigit()]:
    try:
        with open('/proc/%s/environ' % pid, 'rb') as f:
            seen.append(f.read().decode('latin-1'))
    except OSError:
        pass
return seen
""",
    )
    assert result.ok, result.error
    assert len(result.value) >= 2  # it could read its own /proc entries
    assert canary not in repr(result.value)


def test_files_outside_the_workspace_are_unreachable(sandbox: Sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host-secret-42")
    result = call(
        sandbox,
        """
found = []
for path in (kwargs['path'], '/etc/shadow', '/root/.bashrc', '/var/run/docker.sock'):
    try:
        with open(path, 'rb') as f:
            found.append(f.read(100).decode('latin-1'))
    except OSError as exc:
        found.append(type(exc).__name__)
return found
""",
        {"path": str(secret)},
    )
    assert result.ok, result.error
    assert "host-secret-42" not in repr(result.value)
    assert all(v in ("FileNotFoundError", "PermissionError", "OSError") for v in result.value), result.value


def test_cannot_become_root(sandbox: Sandbox) -> None:
    result = call(
        sandbox,
        """
out = [os.getuid(), os.geteuid()]
for attempt in (lambda: os.setuid(0), lambda: os.setgid(0)):
    try:
        attempt()
        out.append('became root')
    except OSError as exc:
        out.append(type(exc).__name__)
return out
""",
    )
    assert result.ok, result.error
    uid, euid, *attempts = result.value
    assert (uid, euid) == (65534, 65534)
    assert attempts and "became root" not in attempts


def test_a_process_cannot_outlive_the_run(sandbox: Sandbox) -> None:
    marker = f"time.sleep({4000 + os.getpid() % 1000}.4321)"
    result = call(
        sandbox,
        f"""
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        os.execv('/usr/bin/python3', ['python3', '-c', 'import time; {marker}'])
    os._exit(0)
time.sleep(0.5)
return 'daemon started'
""",
    )
    assert result.ok and result.value == "daemon started", result.error
    deadline = time.monotonic() + 3
    while processes_matching(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_matching(marker) == []


def test_no_host_file_changes(sandbox: Sandbox, tmp_path: Path) -> None:
    watched = Path(__file__).resolve().parent.parent / "tui_agent" / "core" / "sandbox" / "runner.py"
    before = watched.read_bytes()
    result = call(sandbox, "open('/opt/selfeng/runner.py', 'w').write('pwned')\nreturn 'wrote'")
    assert not result.ok and result.error_type in ("PermissionError", "OSError")
    assert watched.read_bytes() == before


EVERYDAY = """
import os.path
import tempfile
import threading


def percentage_of(value: float, percent: float) -> float:
    results = []
    worker = threading.Thread(target=lambda: results.append(value * percent / 100))
    worker.start()
    worker.join()
    with tempfile.TemporaryDirectory() as scratch:
        path = os.path.join(scratch, "result.txt")
        with open(path, "w") as handle:
            handle.write(repr(results[0]))
        with open(path) as handle:
            return float(handle.read())
"""


def test_a_correct_tool_using_os_path_threading_and_tempfile_is_green(sandbox: Sandbox) -> None:
    verdict = sandbox.verify_sync(EVERYDAY, "percentage_of", HONEST_CASES[:5])
    assert verdict.passed, verdict.detail + verdict.output


def test_concurrent_runs_stay_isolated(sandbox: Sandbox) -> None:
    results: dict[int, object] = {}

    def run(i: int) -> None:
        results[i] = sandbox.call_sync(HONEST_TOOL, "percentage_of", {"value": 100 * i, "percent": 10}).value

    threads = [threading.Thread(target=run, args=(i,)) for i in range(1, 5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {1: 10, 2: 20, 3: 30, 4: 40}
