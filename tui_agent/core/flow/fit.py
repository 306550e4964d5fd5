"""Does a found tool compute what the request asks for? Decided before it runs.

A small model judges "does this function answer that request?" about as well as a coin (measured:
9 and 12 right of 20 near misses, see benchmarks/registry.py). It names functions well, though.
So the model is asked once per request, without any tool in view, what function would answer it
(a snake_case name and a return type), and each candidate is held against that draft:

- the kind of answer: a yes/no question wants a yes/no tool and a yes/no tool answers nothing
  else, and a request about a file on this machine wants a tool that reads a file (no model
  needed for these);
- the return type: a request whose answer is text ("MMXXIV") is not answered by a tool returning
  a number (roman_to_int);
- the direction: a draft ``rgb_to_hex`` is not served by ``hex_to_rgb``;
- the words that matter: a word of the draft's name that the request itself says ("rounded",
  "circumference", "least") and that the tool never names as what it computes (its name,
  description, parameters or phrasings; a docstring's "in lower case" is a step of snake_case,
  not what it is for) means the request asks for something the tool does not do;
- the quantities given: a value the request names ("whose diameter is 10", "a BMI of 22") is a
  value the tool must take by that name; circle_area(radius) does not take a diameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, Field

from tui_agent.core.flow.arguments import QUOTED
from tui_agent.core.request.synonyms import STEM, initials, kin
from tui_agent.core.request.values import abbreviates, asks_yes_no, named_files
from tui_agent.core.tool.spec import ToolSpec
from tui_agent.core.tool.types import base_type

WORD = re.compile(r"[a-z]+")
# Words of a drafted name that say nothing about what is computed.
FILLER = frozenset(
    [
        "calculate",
        "compute",
        "get",
        "find",
        "convert",
        "make",
        "do",
        "count",
        "to",
        "of",
        "from",
        "by",
        "at",
        "on",
        "all",
        "in",
        "into",
        "and",
        "or",
        "the",
        "a",
        "an",
        "as",
        "for",
        "with",
        "value",
        "values",
        "number",
        "numbers",
        "result",
        "answer",
        "total",
        "is",
        "are",
        "has",
        "have",
        "check",
        "return",
        "func",
        "function",
    ]
)


class RequestSignature(BaseModel):
    """The function the model would write for a request: the yardstick for every candidate."""

    function_name: str = Field(description="snake_case name of a function that returns the answer")
    # no example answer: nothing read it, and writing it made a draft 2.7-5.8 s instead of
    # 1.6-2.6 s on the local model (an answer like 37.77777777777778 is many tokens)
    return_type: str = Field(description="str, int, float, bool, list or dict")


def kind_mismatch(spec: ToolSpec, request: str) -> str:
    """Why the tool's kind of answer cannot be the request's, or ""."""
    returns_bool = base_type(spec.return_type) == "bool"
    yes_no = asks_yes_no(request)
    if returns_bool and not yes_no:
        return f"{spec.function_name} answers yes or no, and the request does not ask a yes/no question"
    if yes_no and not returns_bool:
        return f"the request asks yes or no, and {spec.function_name} does not answer yes or no"
    return ""


def file_mismatch(spec: ToolSpec, request: str) -> str:
    """Why a tool that reads no file cannot answer a request about a file on this machine, or "":
    given the file's name as text, count_words("notes.txt") would answer 1."""
    if any(p.type == "file" for p in spec.parameters):
        return ""
    named = named_files(request)
    return (
        f"the request is about the file {named[0]}, and {spec.function_name} reads no file" if named else ""
    )


def _words(text: str) -> list[str]:
    return WORD.findall(text.lower().replace("_", " "))


def _stems(text: str) -> set[str]:
    return {w[:STEM] for w in _words(text)}


def vocabulary_text(spec: ToolSpec, phrasings: list[str], *, how: bool = True) -> str:
    """The words a tool is known by; ``how``: with its docstring, which says how it works (the
    words of a step, "in lower case", are not what the tool is for)."""
    parts = [spec.function_name, spec.description, *phrasings] + ([spec.docstring] if how else [])
    parts += [f"{p.name} {p.description}" for p in spec.parameters]
    return "; ".join(parts).replace("_", " ")  # one phrase each: no initials across two


def _direction(name: str) -> tuple[set[str], set[str]] | None:
    """``a_to_b``: the words before and after "to"."""
    words = _words(name)
    if "to" not in words:
        return None
    at = words.index("to")
    source, target = set(words[:at]) - FILLER, set(words[at + 1 :]) - FILLER
    return (source, target) if source and target else None


# a quoted value and the word that says what kind of value it is ("the word 'terminal'"): what
# the tool works on, not what it computes; "How many words are in 'x'" keeps its words
KINDS = "word|words|string|strings|text|texts|phrase|phrases|sentence|sentences|name|names"
LABELLED = re.compile(rf"(?:\b(?:{KINDS})\s+)?(?:'[^']*'|\"[^\"]*\")", re.IGNORECASE)

# "diameter is 10", "a BMI of 22", "rate = 0.5": the word that names the value that follows
NAMED_VALUE = re.compile(r"\b([a-z]+)\s+(?:is|of|=|equals)\s+[-+]?\d")


# words that point at a value without naming what it is
_POINTING = "what which who how where when why that this these those there here it much many one each all"
POINTERS = frozenset(_POINTING.split()) | {"list", "set", "sequence", "series", "input"}


# "how many characters": what the request counts, which a tool must name (count_vowels counts
# no characters); "how many times" counts nothing in particular
COUNTED = re.compile(r"\bhow\s+many\s+([a-z]+)")
NOT_COUNTED = frozenset(["times", "more", "less", "fewer", "other", "different", "distinct", "unique"])


def _words_found(pattern: re.Pattern[str], request: str, ignored: frozenset[str] = frozenset()) -> list[str]:
    bare = QUOTED.sub(" ", request.lower())
    skip = FILLER | POINTERS | ignored
    return [w for w in pattern.findall(bare) if w not in skip and len(w) > 2]


def named_quantities(request: str) -> list[str]:
    """The words a request uses to name its numbers, outside quoted text."""
    return _words_found(NAMED_VALUE, request)


def counted_things(request: str) -> list[str]:
    """What a request asks to count ("how many vowels"), outside quoted text."""
    return _words_found(COUNTED, request, NOT_COUNTED)


def _same_kind(drafted: str, declared: str) -> bool:
    a, b = base_type(drafted), base_type(declared)
    if "any" in (a, b) or a == b:
        return True
    return {a, b} <= {"int", "float"}


def _names(word: str, stems: set[str], text: str) -> bool:
    """Whether a tool known by ``stems`` (words of ``text``) names ``word``: itself or a word of
    the same sense ("mean" for average_of), or as an abbreviation ("gcd", "km")."""
    return bool(kin(word) & stems) or abbreviates(word, text) or initials(word, text)


def draft_vetoes(draft: RequestSignature, spec: ToolSpec, phrasings: list[str], request: str) -> list[str]:
    """Why the drafted function and the tool differ, if they do."""
    reasons = []
    if not _same_kind(draft.return_type, spec.return_type):
        reasons.append(
            f"the answer is a {base_type(draft.return_type)}, {spec.function_name} returns {spec.return_type}"
        )
    mine, theirs = _direction(draft.function_name), _direction(spec.function_name)
    if mine and theirs and mine[0] & theirs[1] and mine[1] & theirs[0]:
        reasons.append(f"the other direction: the request wants {draft.function_name}")
    said = _stems(re.sub(LABELLED, " ", request))
    everything, named = vocabulary_text(spec, phrasings), vocabulary_text(spec, phrasings, how=False)
    known, what = _stems(everything), _stems(named)
    unknown = [
        w
        for w in _words(draft.function_name)
        if w not in FILLER and w[:STEM] in said and not _names(w, what, named)
    ]
    if unknown:
        reasons.append(f"the request asks for {', '.join(unknown)}, which {spec.function_name} does not do")
    uncounted = [w for w in counted_things(request) if not _names(w, known, everything)]
    if uncounted:
        reasons.append(f"the request counts {uncounted[0]}, which {spec.function_name} does not count")
    strange = [w for w in named_quantities(request) if not _names(w, known, everything)]
    if strange:
        takes = ", ".join(p.name for p in spec.parameters)
        reasons.append(f"the request gives a {strange[0]}, and {spec.function_name} takes {takes}")
    return reasons


@dataclass(frozen=True)
class Judgement:
    """One tool held against one request: the draft it was compared with, and why it differs."""

    draft: str
    vetoes: tuple[str, ...]

    @property
    def fits(self) -> bool:
        return not self.vetoes

    @property
    def reason(self) -> str:
        return "; ".join(self.vetoes)

    def to_dict(self) -> dict[str, Any]:
        return {"draft": self.draft, "fits": self.fits, "vetoes": list(self.vetoes)}
