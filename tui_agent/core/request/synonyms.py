"""Words people use for the same computation ("mean" and "average", "all caps" and "upper case"),
so that the fit check does not refuse a tool for a synonym. Each family is one sense; two words
are the same only when they share a family (a word may be in two). Antonyms are never in one
family, and neither is a word that also names another job: "least" and "greatest" (a common
divisor is no maximum), "lower" and "upper", "increase" and "change" ("increase 200 by 15
percent" is not a percentage change) must keep telling tools apart.

Words are compared by their first ``STEM`` letters, as the fit check compares them."""

from __future__ import annotations

import re

STEM = 5

FAMILIES: tuple[frozenset[str], ...] = tuple(
    frozenset(words.split())
    for words in (
        "mean average avg",
        "median middle",
        "sum add adding addition total",
        "product multiply multiplied times",
        "difference subtract subtraction minus",
        "quotient divide division divided",
        "power raised exponent pow",
        "root sqrt",
        "upper uppercase caps",  # not "capitals": its stem is capitalize's, which is another job
        "lower lowercase",
        "format convert express",
        "position nth index place",
        "length size len",
        "characters chars length",
        "reverse reversed backwards backward",
        "remove delete strip",
        # not "greatest" and "least": "greatest common divisor" is no maximum
        "maximum max largest biggest highest",
        "minimum min smallest lowest",
        "circumference perimeter",
    )
)


def _stem(word: str) -> str:
    return word.lower()[:STEM]


def _kin_table() -> dict[str, frozenset[str]]:
    """Each stem and the stems of every family it is in."""
    table: dict[str, frozenset[str]] = {}
    for family in FAMILIES:
        stems = frozenset(_stem(w) for w in family)
        for stem in stems:
            table[stem] = table.get(stem, frozenset()) | stems
    return table


_KIN = _kin_table()


def kin(word: str) -> frozenset[str]:
    """The stems of every word that means what ``word`` means here, its own included."""
    stem = _stem(word)
    return _KIN.get(stem, frozenset()) | {stem}


# words that join the words an abbreviation stands for, never part of it
JOINING = frozenset(
    [
        "a",
        "an",
        "and",
        "of",
        "the",
        "to",
        "from",
        "in",
        "into",
        "by",
        "between",
        "with",
        "for",
        "per",
        "or",
        "at",
        "on",
        "as",
    ]
)


def initials(short: str, text: str) -> bool:
    """Whether ``short`` (2 to 5 letters) is the initials of consecutive words of one phrase of
    ``text``: "gcd" for "greatest common divisor", "hms" for "hours, minutes and seconds"; not
    "bmi" for "between metric and imperial units" (a joining word is no initial)."""
    if not (short.isalpha() and 2 <= len(short) <= 5):
        return False
    for phrase in re.split(r"[.;:!?\n()]", text.lower()):
        words = [w for w in re.findall(r"[a-z]+", phrase) if w not in JOINING]
        if short.lower() in "".join(w[0] for w in words):
            return True
    return False
