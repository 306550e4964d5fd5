"""The trusted runner, executed INSIDE the sandbox (Docker image or bubblewrap).

Standalone on purpose: it imports nothing from tui_agent, works on any Python >= 3.9 with pytest.
It reads one JSON request on stdin before any untrusted code is imported:
    {"mode": "verify", "nonce": N}                          run pytest on /work/test_tool.py
    {"mode": "call", "nonce": N, "function": F, "args": A}  call tool.F(**A)
and writes exactly one report line on stdout, ``@@SELFENG-REPORT <nonce> <json>``, then leaves
with ``os._exit`` so no atexit hook or finaliser of the code under test runs after the report.
The nonce is never in the environment, argv or a file, so code under test cannot print a
report the host would believe. Arguments arrive as JSON, never on a command line; nothing is
pickled.
"""

import json
import os
import sys

MARKER = "@@SELFENG-REPORT"
WORKDIR = os.environ.get("SELFENG_WORKDIR", "/work")
MAX_REQUEST = 1 << 20
MAX_RESULT = 64 * 1024
MAX_MESSAGE = 2000


def _report(nonce, payload):
    data = json.dumps(payload, ensure_ascii=True, allow_nan=False)
    os.write(1, ("\n%s %s %s\n" % (MARKER, nonce, data)).encode())
    os._exit(0)


def _clip(text):
    text = str(text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "…"


class _Recorder:
    """A pytest plugin object held only by this runner: what pytest really saw."""

    def __init__(self):
        self.collected = []
        self.collect_errors = []
        self.tests = {}
        self.finished = False

    def pytest_collectreport(self, report):
        if report.failed:
            self.collect_errors.append(_clip(report.longrepr))

    def pytest_collection_finish(self, session):
        self.collected = [item.nodeid for item in session.items]

    def pytest_runtest_logreport(self, report):
        entry = self.tests.setdefault(report.nodeid, {"outcome": "passed", "message": "", "phases": []})
        entry["phases"].append(report.when)
        if hasattr(report, "wasxfail"):
            entry["outcome"] = "xfailed" if report.skipped else "xpassed"
        elif report.skipped:
            entry["outcome"] = "skipped"
        elif report.failed:
            entry["outcome"] = "failed" if report.when == "call" else "error"
        if report.failed or report.skipped:
            entry["message"] = _clip(getattr(report, "longreprtext", "") or report.longrepr)

    def pytest_sessionfinish(self, session, exitstatus):
        self.finished = True


def verify(nonce):
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    import pytest

    recorder = _Recorder()
    args = [
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:stepwise",
        "-p",
        "no:doctest",
        "--noconftest",
        "--confcutdir",
        WORKDIR,
        "--rootdir",
        WORKDIR,
        "-o",
        "python_files=test_tool.py",
        "-o",
        "addopts=",
        "-o",
        "console_output_style=classic",
        "--tb=short",
        "-W",
        "ignore::pytest.PytestUnraisableExceptionWarning",
        os.path.join(WORKDIR, "test_tool.py"),
    ]
    try:
        code = int(pytest.main(args, plugins=[recorder]))
    except BaseException as exc:  # pytest.exit, SystemExit from code under test, ...
        code = -1
        recorder.collect_errors.append(_clip("pytest did not finish: %r" % (exc,)))
    tests = [
        {
            "nodeid": nodeid,
            "outcome": entry["outcome"],
            "message": entry["message"],
            "complete": "call" in entry["phases"] and "teardown" in entry["phases"],
        }
        for nodeid, entry in recorder.tests.items()
    ]
    _report(
        nonce,
        {
            "mode": "verify",
            "exit": code,
            "collected": recorder.collected,
            "tests": tests,
            "collect_errors": recorder.collect_errors,
            "finished": recorder.finished,
        },
    )


def call(nonce, function, args):
    sys.path.insert(0, WORKDIR)
    try:
        import tool

        fn = getattr(tool, function)
        value = fn(**args)
    except BaseException as exc:
        _report(nonce, {"mode": "call", "ok": False, "error_type": type(exc).__name__, "message": _clip(exc)})
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError) as exc:
        _report(nonce, {"mode": "call", "ok": False, "error_type": "ResultNotJSON", "message": _clip(exc)})
    if len(text) > MAX_RESULT:
        _report(
            nonce,
            {
                "mode": "call",
                "ok": False,
                "error_type": "ResultTooLarge",
                "message": "result is %d bytes, the limit is %d" % (len(text), MAX_RESULT),
            },
        )
    _report(nonce, {"mode": "call", "ok": True, "value": value})


def main():
    request = json.loads(sys.stdin.buffer.read(MAX_REQUEST).decode())
    nonce = request["nonce"]
    if request["mode"] == "verify":
        verify(nonce)
    elif request["mode"] == "call":
        call(nonce, request["function"], request.get("args") or {})
    os._exit(3)


if __name__ == "__main__":
    main()
