"""The one definition of each pattern a request is read with. Every room that looks at a
request's raw text uses these, through :mod:`reading` where it can; a test fails if another
module defines a number, date or stem pattern of its own."""

from __future__ import annotations

import calendar
import re

# A number as a request writes it: -5, 3.5, 1,200, 6.02e23.
NUMBER = r"-?\d+(?:,\d{3})*(?:\.\d+)?(?:[eE][-+]?\d+)?"
NUMBER_RE = re.compile(NUMBER)
# A number without its sign or grouping, as a search token: 26.2, 300.
UNSIGNED = r"\d+(?:\.\d+)?"
# A run of two or more numbers: "4, 8, 15 and 16".
LIST = rf"{NUMBER}(?:\s*(?:,|and|,\s*and)\s*{NUMBER})+"
LIST_RE = re.compile(LIST)
# Quoted text, either quote: the request's own text values.
QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")
# A calendar date written the ISO way.
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
# A plan's reference to an earlier step's result: "$1" (in a step's arguments or its text).
STEP_REF = re.compile(r"\$(\d+)")
# A word of letters.
WORD = re.compile(r"[A-Za-z]+")
# Words are compared by their first STEM letters, a stemmer that needs no model or language:
# "percent" and "percentage", "reversed" and "reverse" meet.
STEM = 5
# A month named as the calendar module names it ("April", "Apr"): a value, the month's number.
MONTH = re.compile(
    r"\b(" + "|".join([*calendar.month_name[1:], *calendar.month_abbr[1:]]) + r")\b", re.IGNORECASE
)
# A word that looks like a path: a slash, a home directory, or a file extension.
PATHLIKE = re.compile(r"/|^~|\.[A-Za-z0-9]{1,8}$")


def number_value(token: str) -> int | float:
    """A number token as a value: an int when written without a point or an exponent."""
    clean = token.replace(",", "")
    value = float(clean)
    return int(value) if value.is_integer() and not any(c in clean for c in ".eE") else value


def inside_word(text: str, span: tuple[int, int]) -> bool:
    """Whether the span touches a letter on either side ("7th", "x2"): no number of its own."""
    before = text[span[0] - 1] if span[0] else " "
    after = text[span[1]] if span[1] < len(text) else " "
    return before.isalpha() or after.isalpha()


def stem(word: str) -> str:
    return word.lower()[:STEM]


def month_number(name: str) -> int:
    """The month a :data:`MONTH` match names, 1 to 12."""
    lowered = name.lower()
    for number in range(1, 13):
        if lowered in (calendar.month_name[number].lower(), calendar.month_abbr[number].lower()):
            return number
    raise ValueError(f"not a month: {name}")
