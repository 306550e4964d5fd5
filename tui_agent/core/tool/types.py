"""Parameter types as the model (or a person) writes them, brought to the few the engine checks
arguments with: ``List[float]``, ``list[int]``, ``Sequence[str]`` are lists; ``Optional[int]``
and ``int | None`` are ints; ``Dict[str, int]`` is a dict; ``number`` is a float. The text as
written is kept as the annotation, so a signature a request states stays exactly as stated."""

from __future__ import annotations

import re
from typing import Any

BASE_TYPES: dict[str, Any] = {
    "str": str,
    "int": int,
    "float": float,
    "bool": bool,
    "list": list,
    "dict": dict,
    "any": Any,
    "file": str,  # a file the user names: the tool gets its path in the sandbox, read-only
}
JSON_TYPES = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "list": "array",
    "dict": "object",
    "file": "string",
}
WORDS = {
    "str": "str",
    "string": "str",
    "text": "str",
    "chr": "str",
    "char": "str",
    "int": "int",
    "integer": "int",
    "float": "float",
    "number": "float",
    "double": "float",
    "decimal": "float",
    "real": "float",
    "complex": "any",
    "bool": "bool",
    "boolean": "bool",
    "list": "list",
    "array": "list",
    "tuple": "list",
    "set": "list",
    "frozenset": "list",
    "sequence": "list",
    "iterable": "list",
    "collection": "list",
    "deque": "list",
    "dict": "dict",
    "mapping": "dict",
    "object": "any",
    "any": "any",
    "file": "file",
}
_NONE = re.compile(r"\bnone\b|\bnonetype\b")


def _outer(text: str) -> tuple[str, str]:
    """``Outer[inner]`` -> ("outer", "inner"); ``name`` -> ("name", "")."""
    match = re.fullmatch(r"([\w.]+)\s*\[(.*)\]", text, re.DOTALL)
    if match:
        return match.group(1).split(".")[-1].lower(), match.group(2)
    return text.split(".")[-1].lower(), ""


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for char in text:
        depth += char == "["
        depth -= char == "]"
        if char == sep and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current]


def admits_none(annotation: Any) -> bool:
    """Whether a return annotation says None is an answer (``Optional[int]``, ``str | None``)."""
    text = str(annotation or "").replace("typing.", "").lower()
    return "optional" in text or bool(re.search(r"\bnone\b", text))


def base_type(annotation: Any) -> str:
    """The engine's type for an annotation as written: str, int, float, bool, list, dict or any."""
    text = str(annotation or "").strip().strip("'\"").replace("typing.", "")
    if not text:
        return "any"
    options = [p.strip() for p in _split_top(text, "|") if p.strip()]
    if len(options) > 1:
        kept = [o for o in options if not _NONE.fullmatch(o.lower())]
        return _union([base_type(o) for o in kept]) if kept else "any"
    outer, inner = _outer(text)
    if outer in ("optional",):
        return base_type(inner)
    if outer == "union":
        kept = [o for o in _split_top(inner, ",") if o.strip() and not _NONE.fullmatch(o.strip().lower())]
        return _union([base_type(o) for o in kept]) if kept else "any"
    if outer in ("literal",):
        values = [v.strip() for v in _split_top(inner, ",")]
        if values and all(v[:1] in "'\"" for v in values):
            return "str"
        return "int" if all(v.removeprefix("-").isdigit() for v in values) else "any"
    return WORDS.get(outer, "any")


def _union(kinds: list[str]) -> str:
    found = set(kinds)
    if found <= {"int", "float"}:
        return "float" if "float" in found else "int"
    return kinds[0] if len(found) == 1 else "any"
