"""Does a request itself give a value? Small models invent arguments (80 -> 100 becomes "20
percent") and specs whose examples use values the request never gave; both are caught here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from tui_agent.core.request.patterns import NUMBER_RE, number_value
from tui_agent.core.request.reading import read


def grounded(value: Any, request: str) -> bool:
    """Does the request itself give this value? A small model that "confirms" a near-miss tool
    tends to invent an argument (80 -> 100 as "20 percent"); an invented value means the tool
    does not fit this request."""
    if isinstance(value, bool):
        return True  # flags are phrased, not quoted
    if isinstance(value, int | float):
        # any number written anywhere counts: "the 7th prime" gives 7, "2024-01-01" gives 2024
        numbers = {float(number_value(t)) for t in NUMBER_RE.findall(request)}
        candidates = {float(value), -float(value)}
        if "%" in request or "percent" in request.lower():
            candidates |= {round(c * 100, 9) for c in candidates}  # 15% given as 0.15
        named = {float(m) for m in read(request).months}  # "April 2025" gives the month 4
        return bool(candidates & (numbers | named))
    if isinstance(value, str):
        return value.strip().lower() in request.lower() or abbreviates(value.strip(), request)
    if isinstance(value, list):
        return all(grounded(v, request) for v in value)
    return True


UNIT_ROOTS = ("meter", "metre", "gram", "liter", "litre", "second", "byte", "watt", "hertz")


def abbreviates(short: str, request: str) -> bool:
    """Whether ``short`` (1 to 3 letters) abbreviates a longer word the request says: its start
    ("mi" miles, "F" Fahrenheit), its first and last letter ("ft" feet), or a prefix letter and
    a unit's root ("cm" centimeters, "km" kilometres)."""
    if not (short.isalpha() and 1 <= len(short) <= 3) or (len(short) == 1 and not short.isupper()):
        return False  # a lone letter is a symbol ("F") only in capitals; "a" abbreviates nothing
    short = short.lower()
    for word in re.findall(r"[a-z]{3,}", request.lower()):
        one = word.removesuffix("es") if word.endswith("ches") else word.removesuffix("s")
        if len(word) < len(short) + 2 or word[0] != short[0]:
            continue
        if word.startswith(short) or (len(short) == 2 and one[-1] == short[1]):
            return True
        if len(short) == 2 and any(r[0] == short[1] and word.find(r, 1) > 0 for r in UNIT_ROOTS):
            return True
    return False


def request_values(request: str) -> list[str]:
    """The values a request writes out: quoted strings, dates and numbers, in order."""
    reading = read(request)
    return [repr(v) for v in (*reading.quoted, *reading.dates)] + [n.text for n in reading.numbers]


def path_words(request: str) -> list[str]:
    """The request's unquoted words that look like paths (``sales.csv``, ``~/x.json``,
    ``/etc/shadow``). A quoted word is text the request works on ("reverse '/etc/hosts'")."""
    return list(read(request).paths)


def named_files(request: str, cwd: Path | None = None) -> list[str]:
    """The path words that are files on this machine (relative ones from ``cwd``)."""
    here = cwd or Path.cwd()
    found = []
    for named in path_words(request):
        path = Path(named).expanduser()
        try:
            if (path if path.is_absolute() else here / path).is_file():
                found.append(named)
        except OSError:
            continue
    return found
