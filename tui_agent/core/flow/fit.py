"""Does a found tool fit a request? The checks that need no wording, decided before it runs.

Only what a computer can check without knowing the request's language stays here: a request
about a file on this machine wants a tool that reads a file, and every value the request gives
must be one the tool takes (:func:`arguments.unused_values`). Whether the tool computes what is
asked is decided by running it and comparing its result with the answer worked out apart
(:mod:`grounding`), not by the words of the request. The English word rules that used to stand
here (synonym families, filler and pointer lists, "how many" and initials rules, a drafted
function's name held against the tool's words) followed the wording of known requests and did
not carry over to new ones (precision 0.87, recall 0.59 on a held-out library): they are gone."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tui_agent.core.flow.arguments import unused_values
from tui_agent.core.request.values import named_files
from tui_agent.core.tool.spec import ToolSpec


def file_mismatch(spec: ToolSpec, request: str) -> str:
    """Why a tool that reads no file cannot answer a request about a file on this machine, or "":
    given the file's name as text, count_words("notes.txt") would answer 1."""
    if any(p.type == "file" for p in spec.parameters):
        return ""
    named = named_files(request)
    return (
        f"the request is about the file {named[0]}, and {spec.function_name} reads no file" if named else ""
    )


def vetoes(spec: ToolSpec, request: str) -> tuple[str, ...]:
    """Why ``spec`` cannot take this request, each in one line (none: it may)."""
    return tuple(v for v in (file_mismatch(spec, request), unused_values(request, spec)) if v)


@dataclass(frozen=True)
class Judgement:
    """One tool held against one request, and why it cannot take it."""

    vetoes: tuple[str, ...]
    more_values: bool = False  # the request gives more numbers than it takes: a step may be missing

    @property
    def fits(self) -> bool:
        return not self.vetoes

    @property
    def reason(self) -> str:
        return "; ".join(self.vetoes)

    def to_dict(self) -> dict[str, Any]:
        return {"fits": self.fits, "vetoes": list(self.vetoes)}
