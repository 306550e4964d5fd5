"""Tests as data, rendered to pytest.

A small model writes test *cases* (arguments and the expected result, or the exception expected).
The host judges them: only the arguments enter the sandbox, each call's :class:`Outcome` comes
back as JSON, and :func:`matches` compares it with the expected value, which never leaves the
host. The rendered pytest file is the readable view of the same cases, with the same rules
(floats within REL_TOL relative, ValueError or TypeError for bad input)."""

from __future__ import annotations

import keyword
import math
import re
import textwrap
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator
from pydantic.json_schema import SkipJsonSchema

ALLOWED_EXCEPTIONS = (
    "ValueError",
    "TypeError",
    "ZeroDivisionError",
    "KeyError",
    "IndexError",
    "OverflowError",
)


class TestCase(BaseModel):
    __test__ = False  # not a pytest class

    name: str = Field(description="snake_case, what the case checks, e.g. fifteen_percent_of_300")
    args: dict[str, Any] = Field(description="keyword arguments for the function")
    expected: Any = Field(
        default=None, description="the exact expected return value (null when raises is set)"
    )
    raises: str | None = Field(
        default=None,
        description=f"exception expected instead of a value: one of {', '.join(ALLOWED_EXCEPTIONS)}",
    )
    # From the request's own values or a worked example it states: agreement between two
    # implementations never changes such a case; only a person's correction does. Not offered to
    # the model (its schema does not show it).
    anchor: SkipJsonSchema[bool] = False
    # A worked example of the spec: its arguments come from the request, its result from the
    # model's arithmetic. Agreement may correct it only when two implementations agree.
    example: SkipJsonSchema[bool] = False

    @property
    def test_name(self) -> str:
        """The name of its test function, which is how a verdict names it."""
        return f"test_{self.name}"

    @field_validator("name")
    @classmethod
    def _slug(cls, value: str) -> str:
        slug = re.sub(r"[^0-9a-zA-Z_]+", "_", value.strip()).strip("_").lower() or "case"
        return slug if not slug[0].isdigit() else f"case_{slug}"

    @field_validator("raises")
    @classmethod
    def _exception(cls, value: str | None) -> str | None:
        if value in (None, "", "null", "None"):
            return None
        if value not in ALLOWED_EXCEPTIONS:
            raise ValueError(f"raises must be one of {', '.join(ALLOWED_EXCEPTIONS)}")
        return value


class TestPlan(BaseModel):
    __test__ = False

    cases: list[TestCase] = Field(
        description="at least 4 cases: the worked examples, edge cases and one error case"
    )

    @field_validator("cases", mode="before")
    @classmethod
    def _drop_malformed(cls, value: Any) -> Any:
        """One malformed case (no args, an unknown exception) costs that case, not the plan:
        the gates count what is left and ask for more when too few remain."""
        if not isinstance(value, list):
            return value
        kept = []
        for item in value:
            try:
                kept.append(TestCase.model_validate(item))
            except ValidationError:
                continue
        return kept


def _literal(value: Any) -> str:
    text = repr(value)
    if "<" in text and ">" in text and "object at" in text:  # not a literal: refuse quietly
        raise ValueError(f"{value!r} is not a literal")
    return text


def _call(function: str, args: dict[str, Any]) -> str:
    parts = []
    for key, value in args.items():
        if not key.isidentifier() or keyword.iskeyword(key):
            raise ValueError(f"{key!r} is not an argument name")
        found = inline_file(value)
        shown = f"file_with({found[0]!r}, {found[1]!r})" if found else _literal(value)
        parts.append(f"{key}={shown}")
    return f"{function}({', '.join(parts)})"


FILE_WITH = '''

def file_with(name, content):
    """The path of a new file holding content: how a test gives a function a file."""
    import os
    import tempfile

    path = os.path.join(tempfile.mkdtemp(), name)
    with open(path, "w") as handle:
        handle.write(content)
    return path
'''


# How far apart two floats may be and say the same. A constant written to five or six figures
# (1.60934 km a mile, 0.621371 miles a km) puts two right computations of one conversion a few
# millionths apart (5 km: 3.1068637 and 3.1068550); nobody would call those two answers.
REL_TOL = 1e-5
ABS_TOL = 1e-9


def _expectation(value: Any) -> str:
    if isinstance(value, float) or (isinstance(value, list) and any(isinstance(v, float) for v in value)):
        return f"pytest.approx({value!r}, rel={REL_TOL}, abs={ABS_TOL})"
    return _literal(value)


# Bad input is refused with one of these two, and which one is a matter of taste a test has no
# business guessing (float('') raises ValueError, '' * 0.62 raises TypeError): either passes.
BAD_INPUT = ("ValueError", "TypeError")


def render_case(function: str, case: TestCase) -> str:
    call = _call(function, case.args)
    if case.raises:
        expected = "(ValueError, TypeError)" if case.raises in BAD_INPUT else case.raises
        return f"def {case.test_name}():\n    with pytest.raises({expected}):\n        {call}\n"
    if isinstance(case.expected, bool) or case.expected is None:
        return f"def {case.test_name}():\n    assert {call} is {case.expected!r}\n"
    return f"def {case.test_name}():\n    assert {call} == {_expectation(case.expected)}\n"


def unique_cases(cases: list[TestCase]) -> list[TestCase]:
    """Distinct names (suffixes added) and no two cases with the same arguments."""
    seen_names: set[str] = set()
    seen_args: set[str] = set()
    out = []
    for case in cases:
        key = repr(sorted(case.args.items(), key=lambda kv: kv[0]))
        if key in seen_args:
            continue
        seen_args.add(key)
        name, n = case.name, 2
        while name in seen_names:
            name, n = f"{case.name}_{n}", n + 1
        seen_names.add(name)
        out.append(case.model_copy(update={"name": name}))
    return out


def render_tests(function: str, cases: list[TestCase]) -> str:
    body = "\n\n".join(render_case(function, case) for case in cases)
    helper = FILE_WITH if "file_with(" in body else ""
    return f"import pytest\nfrom tool import {function}\n{helper}\n\n{body}"


# --- the host's comparison ----------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What one call did, as reported from inside the sandbox: a claim to be judged, never a
    verdict. ``kind``: value | raises | invalid (not JSON data) | timeout | missing (the run
    ended before it)."""

    kind: str
    value: Any = None
    raises: tuple[str, ...] = ()  # the exception's class first, then its bases
    message: str = ""
    line: str = ""  # for "raises": the line of the tool's code it came from, as the sandbox says

    @property
    def error_type(self) -> str:
        return self.raises[0] if self.raises else ""

    def shown(self) -> str:
        if self.kind == "value":
            return repr(self.value)
        if self.kind == "raises":
            return f"raised {self.error_type}" + (f": {self.message}" if self.message else "")
        if self.kind == "invalid":
            return f"not JSON data ({self.message})"
        return {"timeout": "ran past its time", "missing": "never ran"}.get(self.kind, self.kind)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.kind == "value":
            data["value"] = self.value
        if self.raises:
            data["raises"] = list(self.raises)
        if self.message:
            data["message"] = self.message
        if self.line:
            data["line"] = self.line
        return data

    @classmethod
    def from_report(cls, entry: Any) -> Outcome:
        """One entry of the runner's report. Anything malformed is "invalid": a report is
        untrusted text, and a shape we do not know is never read as a pass."""
        if not isinstance(entry, dict):
            return cls("invalid", message="malformed outcome")
        if set(entry) == {"value"}:
            return cls("value", entry["value"])
        if "raises" in entry and isinstance(entry["raises"], list):
            names = tuple(str(n)[:100] for n in entry["raises"][:32])
            message, line = (str(entry.get(key, ""))[:500] for key in ("message", "line"))
            return cls("raises", raises=names, message=message, line=line)
        if entry.get("timeout") is True:
            return cls("timeout")
        return cls("invalid", message=str(entry.get("invalid", "malformed outcome"))[:500])


def expected_text(case: TestCase) -> str:
    if case.raises:
        return f"raises {' or '.join(BAD_INPUT) if case.raises in BAD_INPUT else case.raises}"
    return repr(case.expected)


def matches(case: TestCase, outcome: Outcome) -> bool:
    """Does the outcome satisfy the case, by the rules the rendered test states: floats within
    :data:`REL_TOL` (pytest.approx), True/False/None by identity, ValueError or TypeError for bad
    input, an exception's subclasses count as it (pytest.raises)."""
    if case.raises:
        if outcome.kind != "raises":
            return False
        wanted = BAD_INPUT if case.raises in BAD_INPUT else (case.raises,)
        return any(name in outcome.raises for name in wanted)
    try:
        return outcome.kind == "value" and same_value(case.expected, outcome.value)
    except (OverflowError, ValueError, TypeError, RecursionError, MemoryError):
        return False  # a claimed value we cannot even compare (an int too large for a float) is no pass


def same_value(expected: Any, actual: Any) -> bool:
    if isinstance(expected, bool) or expected is None:
        return actual is expected
    if isinstance(actual, bool):
        return False
    if isinstance(expected, float):
        return isinstance(actual, int | float) and math.isclose(
            actual, expected, rel_tol=REL_TOL, abs_tol=ABS_TOL
        )
    if isinstance(expected, int):
        return isinstance(actual, int | float) and actual == expected
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(actual) == len(expected)
            and all(same_value(e, a) for e, a in zip(expected, actual, strict=True))
        )
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and set(actual) == set(expected)
            and all(same_value(v, actual[k]) for k, v in expected.items())
        )
    return type(actual) is type(expected) and actual == expected


def inline_file(value: Any) -> tuple[str, str] | None:
    """``{"file": "sales.csv", "content": "..."}``: a test case's file, as (name, text)."""
    if (
        isinstance(value, dict)
        and set(value) == {"file", "content"}
        and isinstance(value["file"], str)
        and isinstance(value["content"], str)
    ):
        return value["file"], value["content"]
    return None


_FILE_NAME = re.compile(r"^[^\s{}\[\],]*(/[^\s{}\[\],]*|\.[A-Za-z0-9]{1,8})$")


def as_inline_file(value: Any) -> dict[str, str] | None:
    """A file argument as a test or an example gives it: an inline file, or the file's content
    as a string (which a small model writes far more reliably than the inline form), made an
    inline file. A bare file name ("data.csv") names no file the test has: None."""
    if inline_file(value) is not None:
        return value
    if not isinstance(value, str) or _FILE_NAME.match(value.strip()):
        return None
    if value.startswith("\n"):  # written as a triple-quoted string: its lines as laid out
        value = textwrap.dedent(value[1:])
    start = value.lstrip()[:1]
    first = value.strip().splitlines()[0] if value.strip() else ""
    ext = "json" if start in ("{", "[") else "csv" if "," in first else "txt"
    return {"file": f"input.{ext}", "content": value}


def with_inline_files(args: dict[str, Any], files: set[str]) -> dict[str, Any] | None:
    """``args`` with each file argument an inline file, or None when one cannot be."""
    out = dict(args)
    for name in files & set(args):
        inline = as_inline_file(args[name])
        if inline is None:
            return None
        out[name] = inline
    return out


CUT = "…"  # the last line of a file's sample that is not the whole file


def is_whole(sample: str) -> bool:
    """Whether a file's sample is all of the file (it does not end in a :data:`CUT` line)."""
    return sample.rpartition("\n")[2] != CUT


def agrees(found: Any, computed: Any) -> bool:
    """Two values say the same: two ints exactly, other numbers within :data:`REL_TOL`, bools
    as bools, None as None, texts exactly (but for surrounding spaces), lists and dicts item by
    item. Symmetric, unlike :func:`same_value`, which reads an expected value the way a test does."""
    if found is None or computed is None:
        return found is computed
    if isinstance(found, bool) or isinstance(computed, bool):
        return isinstance(found, bool) and isinstance(computed, bool) and found is computed
    if isinstance(found, int) and isinstance(computed, int):
        return found == computed
    if isinstance(found, int | float) and isinstance(computed, int | float):
        try:
            return math.isclose(found, computed, rel_tol=REL_TOL, abs_tol=ABS_TOL)
        except (OverflowError, ValueError):
            return False
    if isinstance(found, list) and isinstance(computed, list):
        return len(found) == len(computed) and all(agrees(a, b) for a, b in zip(found, computed, strict=True))
    if isinstance(found, dict) and isinstance(computed, dict):
        return set(found) == set(computed) and all(agrees(found[k], computed[k]) for k in found)
    if isinstance(found, str) and isinstance(computed, str):
        return found.strip() == computed.strip()
    return False
