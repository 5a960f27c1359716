"""The offline answerer: an answer composed of the best-matching source sentences, cited [n]."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rag_core.answers import Source
from rag_core.grounding import analyzer, split_sentences

NO_ANSWER = "I could not find relevant information in the documents to answer that question."


@dataclass(frozen=True)
class _Candidate:
    score: float
    source_number: int
    position: int
    text: str


def extractive_answer(
    query: str, sources: Sequence[Source], max_sentences: int = 3, max_chars: int = 700
) -> str:
    """Up to `max_sentences` source sentences that best match the query, each followed by [n].

    A sentence scores by the query terms it shares (weighted by how rare each term is among
    the candidate sentences) plus a small bonus for coming from a higher-ranked source; the
    chosen sentences keep source order so the answer reads naturally. Without sources the
    answer says that nothing relevant was found.
    """
    if not sources:
        return NO_ANSWER
    query_terms = set(analyzer().terms(query))
    sentences: list[tuple[int, int, str, set[str]]] = []
    for number, source in enumerate(sources, start=1):
        for position, sentence in enumerate(split_sentences(source.content)):
            if sentence.lstrip().startswith("#") or len(sentence) < 20:
                continue  # headings and fragments make poor answers
            sentences.append((number, position, sentence, set(analyzer().terms(sentence))))
    if not sentences:
        return f"{sources[0].content.strip()[:max_chars]} [1]"
    frequency: dict[str, int] = {}
    for *_, terms in sentences:
        for term in terms & query_terms:
            frequency[term] = frequency.get(term, 0) + 1
    total = len(sentences)
    candidates = []
    for number, position, sentence, terms in sentences:
        overlap = sum(math.log(1 + total / frequency[t]) for t in terms & query_terms)
        prior = 0.3 / number + (0.1 if position == 0 else 0.0)
        candidates.append(_Candidate(overlap + prior, number, position, sentence))
    best = sorted(candidates, key=lambda c: -c.score)
    chosen: list[_Candidate] = []
    length = 0
    for candidate in best:
        if len(chosen) == max_sentences:
            break
        if chosen and candidate.score < 0.5 * chosen[0].score:
            break
        if chosen and length + len(candidate.text) > max_chars:
            continue
        chosen.append(candidate)
        length += len(candidate.text)
    chosen.sort(key=lambda c: (c.source_number, c.position))
    return " ".join(f"{c.text.rstrip()} [{c.source_number}]" for c in chosen)
