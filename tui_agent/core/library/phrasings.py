"""The ways a tool can be asked for, as the search index sees them: its name and description,
its docstring, its worked examples written as requests, and requests it has answered with a
verified value that nobody corrected (learned phrasings, kept in its own ``tool.json`` as
templates: "What is {percent}% of {value}?"). All of it comes from the tool's files, so the
index stays derived and rebuildable."""

from __future__ import annotations

import json
import re

from tui_agent.core.request.templates import rendered
from tui_agent.core.tool.record import ToolRecord
from tui_agent.core.tool.spec import ToolSpec

MAX_LEARNED = 24
_SPACE = re.compile(r"\s+")


def _norm(text: str) -> str:
    return _SPACE.sub(" ", text.strip().lower())


def example_request(spec: ToolSpec, args: dict[str, object]) -> str:
    """A worked example as a request: the tool's words and the example's values."""
    words = spec.function_name.replace("_", " ")
    values = ", ".join(v if isinstance(v, str) else json.dumps(v) for v in args.values())
    return f"{words} {values}".strip()


def documents(record: ToolRecord) -> list[str]:
    """Every text the index holds for one tool, distinct, the name-and-description one first."""
    try:
        spec = ToolSpec.model_validate(record.spec)
    except ValueError:
        return [f"{record.name.replace('_', ' ')}: {record.spec.get('description', '')}"]
    texts = [spec.search_text()]
    if spec.docstring.strip():
        texts.append(f"{spec.function_name.replace('_', ' ')}: {spec.docstring.strip()}")
    texts += [example_request(spec, e.args) for e in spec.examples]
    texts += [rendered(p) for p in record.phrasings]
    seen: set[str] = set()
    unique = []
    for text in texts:
        key = _norm(text)
        if key and key not in seen:
            seen.add(key)
            unique.append(text.strip())
    return unique


def with_learned(phrasings: list[str], request: str) -> list[str]:
    """``phrasings`` with ``request`` added as the newest, de-duplicated, the oldest learned
    ones dropped beyond the cap."""
    text = _SPACE.sub(" ", request.strip())
    if not text or len(text) > 300 or _norm(text) in {_norm(p) for p in phrasings}:
        return phrasings
    return [*phrasings, text][-MAX_LEARNED:]
