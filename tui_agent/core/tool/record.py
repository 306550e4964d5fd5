"""A tool as the library keeps it: ``tool.json``'s record and the two files beside it. Plain data,
shared by the library, the engine, MCP and the screens (which never touch the store itself)."""

from __future__ import annotations

import builtins
import datetime as dt
import hashlib
import json
import keyword
import sys
from dataclasses import asdict, dataclass, field
from typing import Any

TOOL_FILE = "tool.py"
TEST_FILE = "test_tool.py"
META_FILE = "tool.json"
RESERVED = frozenset({"tool", "test_tool", "versions", "conftest", "pytest", "runner", "main", "test"})
MAX_NAME = 64


class ToolStoreError(Exception):
    """A one-line, user-facing problem with the library (bad name, unknown tool, corrupt files)."""


def validate_name(name: str) -> str:
    """A tool name must be a plain, lowercase Python identifier that shadows nothing."""
    if not isinstance(name, str) or not name:
        raise ToolStoreError("a tool name cannot be empty")
    if not name.isidentifier() or not name.isascii():
        raise ToolStoreError(
            f"{name!r} is not a valid tool name: use letters, digits and _ (a Python identifier)"
        )
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        raise ToolStoreError(f"{name!r} is a Python keyword and cannot name a tool")
    if name in sys.stdlib_module_names or name in sys.builtin_module_names or name in dir(builtins):
        raise ToolStoreError(f"{name!r} would shadow Python's own {name!r}; choose another name")
    if name.startswith("_") or name != name.lower() or name in RESERVED or len(name) > MAX_NAME:
        raise ToolStoreError(
            f"{name!r} is not allowed: lowercase, no leading _, at most {MAX_NAME} characters, not reserved"
        )
    return name


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sha256_cases(cases: list[dict[str, Any]]) -> str:
    return sha256_text(json.dumps(cases, sort_keys=True, ensure_ascii=False))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass
class ToolRecord:
    """``tool.json``: what the library knows about one version of a tool."""

    name: str
    version: int
    spec: dict[str, Any]
    sha256: dict[str, str]
    created: str = field(default_factory=_now)
    model: str = ""
    source: str = "synthesized"  # synthesized | starter | imported | pulled
    origin: str = ""  # the remote a pulled version came from
    why: str = ""  # why this version exists: synthesised, imported, repaired after failure, ...
    verdict: dict[str, Any] | None = None
    usage_count: int = 0  # calls that ran (its uses)
    answers: int = 0  # answers given with a verified value
    failures: int = 0  # calls on a request's arguments that raised or were stopped
    corrections: int = 0  # answers a person said were wrong
    last_used: str = ""
    # False for a synthesised tool that nobody has allowed to run yet (approve_new_tools = ask);
    # records written before approvals existed have no field and count as approved.
    approved: bool = True
    # The test cases as data (TestCase dumps): what the host judges. test_tool.py is their
    # readable view. Records from before this field read their cases back from test_tool.py.
    cases: list[dict[str, Any]] = field(default_factory=list)
    # Tests of a hand-written test_tool.py that could not be read as cases ("test_x (line 4): why").
    unread_tests: list[str] = field(default_factory=list)
    # Cases the model invented that no implementation written apart sided with (neither the test
    # nor the code): set aside, so not part of the verdict, and listed here with why.
    disputed: list[str] = field(default_factory=list)
    # A composite's member tools at the versions it embeds ({"name", "version"}): empty for others.
    members: list[dict[str, Any]] = field(default_factory=list)
    # Requests this tool answered with a verified value that nobody corrected, and seed phrasings
    # of starters: more ways the search can find it (capped, de-duplicated).
    phrasings: list[str] = field(default_factory=list)

    @property
    def trouble(self) -> int:
        """Corrections and failures on record: among close candidates, a tool with fewer ranks first."""
        return self.corrections + self.failures

    def stats(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "uses": self.usage_count,
            "answers": self.answers,
            "failures": self.failures,
            "corrections": self.corrections,
            "last_used": self.last_used,
        }

    @property
    def verified(self) -> bool:
        return bool(self.verdict and self.verdict.get("passed"))

    @property
    def content_hash(self) -> str:
        parts = self.sha256["tool"] + self.sha256["tests"] + self.sha256.get("cases", "")
        return hashlib.sha256(parts.encode()).hexdigest()[:16]

    @property
    def index_key(self) -> str:
        """What the search index must be refreshed for: the content, whether it is verified, and
        the phrasings it can be found by."""
        learned = hashlib.sha256("\n".join(self.phrasings).encode()).hexdigest()[:8]
        return f"{self.content_hash}:{int(self.verified)}:{learned}"

    @property
    def function_name(self) -> str:
        return str(self.spec.get("function_name") or self.name)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ToolRecord:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


@dataclass
class Tool:
    record: ToolRecord
    tool_source: str
    test_source: str

    @property
    def name(self) -> str:
        return self.record.name
