"""How well an answer is supported by its numbered sources: citations and term overlap."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from rag_core.answers import Source
from rag_core.lexical_index import Analyzer

#: At most nine digits: a model's "[" + 5,000 digits + "]" is no citation, and int() refuses
#: to convert more than 4,300 digits (a ValueError that failed the whole answer).
_CITATION = re.compile(r"\[(\d{1,9})\]")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9])|\n+")
#: A sentence needs this many content terms before its support is judged.
_MIN_TERMS = 3
#: Share of a sentence's content terms that must appear in the sources to count as supported.
SUPPORT_OVERLAP = 0.5


@functools.cache
def analyzer() -> Analyzer:
    """The shared stemming analyzer (built on first use)."""
    return Analyzer()


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, split on end punctuation followed by a capital, and on newlines."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def cited_numbers(answer: str) -> list[int]:
    """The source numbers an answer cites with [n]."""
    return [int(n) for n in _CITATION.findall(answer)]


def grounding_score(answer: str, sources: Sequence[Source]) -> float:
    """Share in [0, 1] of the answer's sentences whose content terms mostly occur in the sources.

    A sentence citing [n] is checked against the sources it cites, otherwise against all of them;
    sentences with fewer than three content terms (greetings, "I don't know") are not judged.
    An answer with no judged sentence scores 1.
    """
    terms_of = [set(analyzer().terms(s.content)) for s in sources]
    everything = set().union(*terms_of) if terms_of else set()
    judged = supported = 0
    for sentence in split_sentences(answer):
        terms = set(analyzer().terms(_CITATION.sub(" ", sentence)))
        if len(terms) < _MIN_TERMS:
            continue
        cited = [n for n in cited_numbers(sentence) if 1 <= n <= len(sources)]
        pool = set().union(*(terms_of[n - 1] for n in cited)) if cited else everything
        judged += 1
        if len(terms & pool) / len(terms) >= SUPPORT_OVERLAP:
            supported += 1
    return 1.0 if judged == 0 else supported / judged
