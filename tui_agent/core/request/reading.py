"""A request, read once: its quoted texts, dates, numbers (with the words beside them), runs of
numbers and path-like words, as a typed record every room reads instead of parsing the raw text
again. Built from :mod:`patterns` only; cached, so reading the same request twice costs nothing."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from tui_agent.core.request.patterns import (
    ISO_DATE,
    LIST_RE,
    MONTH,
    NUMBER_RE,
    PATHLIKE,
    QUOTED,
    WORD,
    inside_word,
    month_number,
    number_value,
)


@dataclass(frozen=True)
class Number:
    """A number the request writes, where (``span`` in the request's text) and the words right
    before and after it ("20 percent": after is "percent"; "radius 2.5": before is "radius")."""

    value: int | float
    text: str
    span: tuple[int, int]
    before: str = ""
    after: str = ""


@dataclass(frozen=True)
class Reading:
    text: str
    quoted: tuple[str, ...]  # quoted texts, in order
    dates: tuple[str, ...]  # ISO dates outside quotes
    numbers: tuple[Number, ...]  # outside quotes and dates, not inside a word
    lists: tuple[tuple[int | float, ...], ...]  # runs of two or more numbers
    paths: tuple[str, ...]  # unquoted words that look like paths (sales.csv, ~/x.json)
    bare: str  # the text with quoted texts and dates blanked out, spans unchanged
    months: tuple[int, ...] = ()  # months named outside quotes ("April 2025" names 4)

    @property
    def values(self) -> tuple[int | float, ...]:
        return tuple(n.value for n in self.numbers)


def _blank(text: str, pattern: re.Pattern[str]) -> str:
    return pattern.sub(lambda m: " " * len(m.group()), text)


def _paths(text: str) -> tuple[str, ...]:
    found = []
    for word in text.split():
        if word[:1] in "\"'`":
            continue  # a quoted word is text the request works on ("reverse '/etc/hosts'")
        named = word.strip("()[]{}<>,;:!?").rstrip(".")
        if PATHLIKE.search(named):
            found.append(named)
    return tuple(found)


@functools.lru_cache(maxsize=512)
def read(text: str) -> Reading:
    quoted = tuple(a if a else b for a, b in QUOTED.findall(text))
    unquoted = _blank(text, QUOTED)
    dates = tuple(ISO_DATE.findall(unquoted))
    bare = _blank(unquoted, ISO_DATE)
    numbers = []
    for match in NUMBER_RE.finditer(bare):
        if inside_word(bare, match.span()):
            continue
        before = re.search(r"([A-Za-z]+)\s*(?:is|of|=|:)?\s*$", bare[: match.start()])
        after = re.match(r"\s*(%|[A-Za-z]+)", bare[match.end() :])
        numbers.append(
            Number(
                number_value(match.group()),
                match.group(),
                match.span(),
                before.group(1) if before else "",
                after.group(1) if after else "",
            )
        )
    lists = tuple(
        tuple(number_value(n) for n in NUMBER_RE.findall(m.group())) for m in LIST_RE.finditer(bare)
    )
    months = tuple(month_number(m) for m in MONTH.findall(bare))
    return Reading(text, quoted, dates, tuple(numbers), lists, _paths(text), bare, months)


def words(text: str) -> list[str]:
    return WORD.findall(text)
