"""The lexical half of search: BM25 (``bm25s``) over the same texts the vector index holds. A
request that shares a rare word with one tool ("Roman", "palindrome", "BMI") finds it even where
the embedding is vague. Built in memory from the files; rebuilt when the library changes.

Words are cut to their first five letters, a crude stemmer that needs no model: "percent" and
"percentage", "numeral" and "numerals", "reversed" and "reverse" meet."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from tui_agent.core.request.patterns import STEM, UNSIGNED

SATURATION = 4.0  # a BM25 score of 4 counts as 0.5: scores are mapped to s / (s + 4)
_TOKEN = re.compile(rf"[a-z]+|{UNSIGNED}|%|°")
STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "can",
        "could",
        "do",
        "does",
        "for",
        "from",
        "give",
        "how",
        "i",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "please",
        "tell",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "this",
        "to",
        "was",
        "what",
        "when",
        "where",
        "which",
        "who",
        "will",
        "with",
        "would",
        "you",
        "your",
    ]
)


def words(text: str) -> list[str]:
    return [w[:STEM] for w in _TOKEN.findall(text.lower()) if w not in STOPWORDS]


class LexicalIndex:
    """Built whole and swapped in with one assignment: a search running in another thread sees the
    old owners with the old matrix or the new with the new, never one of each."""

    def __init__(self) -> None:
        self._snapshot: tuple[tuple[str, ...], Any] = ((), None)

    def build(self, docs: Sequence[tuple[str, str]]) -> None:
        """``docs``: (tool name, text) pairs, several per tool."""
        import bm25s

        owners = tuple(name for name, _text in docs)
        corpus = [words(text) or ["_"] for _name, text in docs]
        if not corpus:
            self._snapshot = ((), None)
            return
        index = bm25s.BM25()
        index.index(corpus, show_progress=False)
        self._snapshot = (owners, index)

    def scores(self, query: str) -> dict[str, float]:
        """Tool name -> its best document's score, mapped into [0, 1)."""
        owners, bm25 = self._snapshot
        tokens = words(query)
        if bm25 is None or not tokens:
            return {}
        raw = bm25.get_scores(tokens)
        best: dict[str, float] = {}
        for position in np.nonzero(raw)[0]:
            name = owners[int(position)]
            best[name] = max(best.get(name, 0.0), float(raw[position]))
        return {name: score / (score + SATURATION) for name, score in best.items()}
