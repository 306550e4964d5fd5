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

import contextlib
import json
import os
import sys

MARKER = "@@SELFENG-REPORT"
WORKDIR = os.environ.get("SELFENG_WORKDIR", "/work")
MAX_REQUEST = 1 << 20
MAX_RESULT = 64 * 1024
MAX_MESSAGE = 2000


# Bound before any untrusted import, so code under test cannot swap what writes the report.
_dumps = json.dumps
_write = os.write
_exit = os._exit


def _report(nonce, payload):
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    data = _dumps(payload, ensure_ascii=True, allow_nan=False)
    _write(1, f"\n{MARKER} {nonce} {data}\n".encode())
    _exit(0)


def _fingerprint():
    """Identities of what decides and writes a verdict; any change means tampering."""
    import json.encoder

    import _pytest.main
    import _pytest.python
    import _pytest.reports
    import _pytest.runner

    marks = {}
    for module, names in (
        (
            _pytest.runner,
            (
                "call_and_report",
                "runtestprotocol",
                "call_runtest_hook",
                "pytest_runtest_makereport",
                "pytest_runtest_protocol",
                "check_interactive_exception",
                "CallInfo",
            ),
        ),
        (_pytest.reports, ("TestReport", "BaseReport", "CollectReport")),
        (_pytest.python, ("pytest_pyfunc_call",)),
        (_pytest.main, ("pytest_runtestloop",)),
        (json, ("dumps", "JSONEncoder")),
        (json.encoder, ("c_make_encoder", "encode_basestring_ascii", "encode_basestring")),
        (os, ("write", "_exit")),
    ):
        for name in names:
            marks[module.__name__ + "." + name] = id(getattr(module, name, None))
    for cls in (
        _pytest.reports.TestReport,
        _pytest.reports.BaseReport,
        _pytest.runner.CallInfo,
        json.JSONEncoder,
        _Recorder,
    ):
        for name, value in list(vars(cls).items()):
            marks[cls.__name__ + "." + name] = id(value)
    return marks


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
        self.foreign = []
        self.marks = None

    def pytest_plugin_registered(self, plugin, manager):
        if isinstance(plugin, type(os)):
            name = plugin.__name__
        else:
            name = getattr(plugin, "__module__", None) or type(plugin).__module__
        if not (name.startswith(("_pytest", "pytest")) or name == "__main__" or plugin is manager):
            self.foreign.append(name)

    def pytest_sessionstart(self, session):
        self.marks = _fingerprint()

    def tampered(self):
        found = ["plugin " + n for n in self.foreign]
        if self.marks is not None:
            now = _fingerprint()
            found += [k for k, v in self.marks.items() if now.get(k) != v]
        return found

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
        recorder.collect_errors.append(_clip(f"pytest did not finish: {exc!r}"))
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
            "tampered": recorder.tampered(),
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
                "message": f"result is {len(text)} bytes, the limit is {MAX_RESULT}",
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
