"""Requests as templates: "What is 15% of 300?" answered by percentage_of(value=300, percent=15)
is kept as "What is {percent}% of {value}?". A later request that reads the same but for its
values ("What is 20% of 50?") asks for the same computation, so it is the same call with the new
values: no model needed to decide or to find the arguments."""

from __future__ import annotations

import itertools
import json
import re
from typing import Any

from tui_agent.core.request.patterns import LIST, NUMBER, inside_word, number_value

PLACEHOLDER = re.compile(r"\{([A-Za-z_]\w*)\}")


def _spots(request: str, value: Any) -> list[tuple[int, int]]:
    """Where ``value`` is written in the request: a number as a number token, a text as itself,
    a list of numbers as the run of them."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int | float):
        return [
            m.span()
            for m in re.finditer(NUMBER, request)
            if number_value(m.group()) == float(value) and not inside_word(request, m.span())
        ]
    if isinstance(value, str) and value:
        return [m.span() for m in re.finditer(re.escape(value), request)]
    if (
        isinstance(value, list)
        and value
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
    ):
        return [
            m.span() for m in re.finditer(LIST, request) if _numbers(m.group()) == [float(v) for v in value]
        ]
    return []


def _numbers(text: str) -> list[float]:
    return [float(number_value(t)) for t in re.findall(NUMBER, text)]


def template_of(request: str, args: dict[str, Any]) -> str | None:
    """``request`` with each argument's value replaced by ``{name}``; None when a value is not
    written in the request exactly once, or the request already holds braces."""
    if "{" in request or "}" in request:
        return None
    spans = []
    for name, value in args.items():
        found = _spots(request, value)
        if len(found) != 1:
            return None
        spans.append((found[0], name))
    spans.sort()
    if any(a[0][1] > b[0][0] for a, b in itertools.pairwise(spans)):
        return None  # overlapping values: ambiguous
    out, last = [], 0
    for (start, end), name in spans:
        out += [request[last:start], "{" + name + "}"]
        last = end
    return "".join([*out, request[last:]]).strip()


def _pattern(template: str, kinds: dict[str, str]) -> re.Pattern[str] | None:
    parts, last = [], 0
    names = []
    for match in PLACEHOLDER.finditer(template):
        name = match.group(1)
        if name not in kinds or name in names:
            return None
        names.append(name)
        parts.append(r"\s+".join(re.escape(w) for w in template[last : match.start()].split(" ")))
        kind = kinds[name]
        quoted = template[match.start() - 1 : match.start()] in ("'", '"')
        # an unquoted text is one word: "to Fahrenheit and then Kelvin" is not a unit
        value = {"int": NUMBER, "float": NUMBER, "list": LIST}.get(kind, r".+?" if quoted else r"[^\s,;:!?]+")
        parts.append(f"(?P<{name}>{value})")
        last = match.end()
    parts.append(r"\s+".join(re.escape(w) for w in template[last:].split(" ")))
    try:
        return re.compile(r"\s*" + "".join(parts) + r"\s*[.?!]?\s*", re.IGNORECASE)
    except re.error:
        return None


def match_template(template: str, request: str, kinds: dict[str, str]) -> dict[str, Any] | None:
    """The arguments, when ``request`` reads as ``template`` but for its values (``kinds``: each
    parameter's type). Values come back as JSON data for the call model to check."""
    if not PLACEHOLDER.search(template):
        return None
    pattern = _pattern(template.strip().rstrip(".?!"), kinds)
    found = pattern.fullmatch(request.strip()) if pattern else None
    if found is None:
        return None
    args: dict[str, Any] = {}
    for name, text in found.groupdict().items():
        kind = kinds[name]
        if kind in ("int", "float"):
            args[name] = (
                json.loads(text.replace(",", ""))
                if kind == "int" or "." in text
                else int(text.replace(",", ""))
            )
        elif kind == "list":
            args[name] = [json.loads(t.replace(",", "")) for t in re.findall(NUMBER, text)]
        else:
            args[name] = text
    return args


def rendered(template: str) -> str:
    """A template as searchable text: placeholders read as the parameter's words."""
    return PLACEHOLDER.sub(lambda m: m.group(1).replace("_", " "), template)
