"""The trusted runner, executed INSIDE the sandbox (Docker image or bubblewrap).

Standalone on purpose: it imports nothing from tui_agent and works on any Python >= 3.9.
It reads one JSON request on stdin before any untrusted code is imported:
    {"nonce": N, "function": F, "cases": [ARGS, ...], "case_timeout": S}
imports ``tool`` from the workspace, calls ``tool.F(**ARGS)`` for each case and writes one
report line on stdout, ``@@SELFENG-REPORT <nonce> <json>``, with each case's outcome:
    {"value": V}                      V plain JSON data (exact built-in types, no subclasses)
    {"raises": [names], "message": M, "line": L} the exception's class and its bases, most
                                      derived first; L, the line of tool.py it came from
    {"invalid": why}                  a value that is not JSON data (a set, an object, NaN...)
    {"timeout": true}                 the case ran past its share of the time
then leaves with ``os._exit``.

This process is NOT the judge. Code under test shares it and could print any report it likes;
the expected values never enter the sandbox, and the host compares outcomes with them. A forged
report can only claim values, and claiming the right values is the same as computing them.
Arguments arrive as JSON on stdin, never on a command line; nothing is pickled.
"""

import contextlib
import json
import linecache
import math
import os
import signal
import sys

MARKER = "@@SELFENG-REPORT"
WORKDIR = os.environ.get("SELFENG_WORKDIR", "/work")
MAX_REQUEST = 4 << 20
MAX_VALUE = 64 * 1024
MAX_MESSAGE = 500
MAX_DEPTH = 64

_dumps = json.dumps
_write = os.write
_exit = os._exit


class CaseTimeout(BaseException):
    """Raised by the alarm inside a case that runs too long (a BaseException so that a bare
    ``except Exception`` in the code under test does not swallow it)."""


class NotPlain(Exception):
    pass


def plain(value, depth=0):
    """``value`` as JSON data, built only from exact built-in types: a subclass with its own
    ``__eq__`` or ``__repr__`` is refused, not converted. Tuples become lists, as in JSON."""
    if depth > MAX_DEPTH:
        raise NotPlain("nested too deeply")
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is int:
        return value
    if kind is float:
        if not math.isfinite(value):
            raise NotPlain(f"returned {value!r}, which JSON cannot hold")
        return value
    if kind is list or kind is tuple:
        return [plain(item, depth + 1) for item in value]
    if kind is dict:
        out = {}
        for key, item in value.items():
            if type(key) not in (str, int, float, bool) and key is not None:
                raise NotPlain(f"a dict key of type {type(key).__name__} is not JSON data")
            out[json.dumps(key) if type(key) is not str else key] = plain(item, depth + 1)
        return out
    raise NotPlain(f"returned a {kind.__name__}, which is not JSON data")


def _clip(text):
    text = str(text)
    return text if len(text) <= MAX_MESSAGE else text[:MAX_MESSAGE] + "..."


def _report(nonce, payload):
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    data = _dumps(payload, ensure_ascii=True, allow_nan=False)
    _write(1, (f"\n{MARKER} {nonce} {data}\n").encode())
    _exit(0)


def _on_alarm(signum, frame):
    raise CaseTimeout()


def _names(exc):
    return [cls.__name__ for cls in type(exc).__mro__ if cls is not object]


def _line(exc):
    """The last line of tool.py the exception passed through: shown to the repair beside the
    error (``len(reader)``), a hint for the model and never evidence."""
    found = ""
    trace = exc.__traceback__
    while trace is not None:
        code = trace.tb_frame.f_code
        if os.path.basename(code.co_filename) == "tool.py":
            found = linecache.getline(code.co_filename, trace.tb_lineno).strip()
        trace = trace.tb_next
    return _clip(found)


def run_case(fn, args, timeout):
    if timeout:
        signal.setitimer(signal.ITIMER_REAL, timeout)
    try:
        value = fn(**args)
    except CaseTimeout:
        return {"timeout": True}
    except BaseException as exc:  # SystemExit, KeyboardInterrupt from code under test: an outcome
        return {"raises": _names(exc), "message": _clip(exc), "line": _line(exc)}
    finally:
        if timeout:
            signal.setitimer(signal.ITIMER_REAL, 0)
    try:
        data = plain(value)
        text = json.dumps(data, allow_nan=False)
    except (NotPlain, ValueError, TypeError, RecursionError) as exc:
        return {"invalid": _clip(exc)}
    if len(text) > MAX_VALUE:
        return {"invalid": f"the value is {len(text)} bytes, the limit is {MAX_VALUE}"}
    return {"value": data}


def main():
    request = json.loads(sys.stdin.buffer.read(MAX_REQUEST).decode())
    nonce = request["nonce"]
    timeout = float(request.get("case_timeout") or 0)
    signal.signal(signal.SIGALRM, _on_alarm)
    sys.path.insert(0, WORKDIR)
    try:
        import tool

        fn = getattr(tool, request["function"])
    except BaseException as exc:
        _report(nonce, {"import_error": f"{type(exc).__name__}: {_clip(exc)}"})
    outcomes = []
    for args in request["cases"]:
        outcomes.append(run_case(fn, args, timeout))
    _report(nonce, {"outcomes": outcomes})


if __name__ == "__main__":
    main()
