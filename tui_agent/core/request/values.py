"""Does a request itself give a value? Small models invent arguments (80 -> 100 becomes "20
percent") and specs whose examples use values the request never gave; both are caught here."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

NUMBER = re.compile(r"-?\d+(?:[.,]\d+)*")


def grounded(value: Any, request: str) -> bool:
    """Does the request itself give this value? A small model that "confirms" a near-miss tool
    tends to invent an argument (80 -> 100 as "20 percent"); an invented value means the tool
    does not fit this request."""
    if isinstance(value, bool):
        return True  # flags are phrased, not quoted
    if isinstance(value, int | float):
        numbers = {
            float(n.replace(",", ""))
            for n in NUMBER.findall(request)
            if n.replace(",", "").lstrip("-").replace(".", "", 1).isdigit()
        }
        candidates = {float(value), -float(value)}
        if "%" in request or "percent" in request.lower():
            candidates |= {round(c * 100, 9) for c in candidates}  # 15% given as 0.15
        return bool(candidates & numbers)
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
    """The values a request writes out: quoted strings and numbers, in order."""
    quoted = re.findall(r"'([^']+)'|\"([^\"]+)\"", request)
    strings = [a or b for a, b in quoted]
    rest = re.sub(r"'[^']+'|\"[^\"]+\"", " ", request)
    dates = re.findall(r"\d{4}-\d{2}-\d{2}", rest)
    rest = re.sub(r"\d{4}-\d{2}-\d{2}", " ", rest)
    return [repr(v) for v in strings] + [repr(d) for d in dates] + NUMBER.findall(rest)


YES_NO = re.compile(
    r"^\s*(is|are|was|were|does|do|did|has|have|had)\b"
    r"|^\s*(can|could|will|would|should)\b(?!\s+(you|u|i|we)\b)"
    r"|\b(whether|check if|tell me if|true or false|yes or no)\b",
    re.IGNORECASE,
)
COUNT = re.compile(r"^\s*(how many|count|number of)\b|\bhow many\b", re.IGNORECASE)
DATE = re.compile(r"\b(what|which) (date|day)\b|\bdate (is|was|will)\b", re.IGNORECASE)


def asks_yes_no(request: str) -> bool:
    return bool(YES_NO.search(request))


def answer_kind(request: str) -> str:
    """The kind of answer a request states it wants: "yes/no", "count", "date", or ""."""
    if asks_yes_no(request):
        return "yes/no"
    if COUNT.search(request):
        return "count"
    if DATE.search(request):
        return "date"
    return ""


PATHLIKE = re.compile(r"/|^~|\.[A-Za-z0-9]{1,8}$")


def path_words(request: str) -> list[str]:
    """The request's unquoted words that look like paths (``sales.csv``, ``~/x.json``,
    ``/etc/shadow``). A quoted word is text the request works on ("reverse '/etc/hosts'")."""
    found = []
    for word in request.split():
        if word[:1] in "\"'`":
            continue
        named = word.strip("()[]{}<>,;:!?").rstrip(".")
        if PATHLIKE.search(named):
            found.append(named)
    return found


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
