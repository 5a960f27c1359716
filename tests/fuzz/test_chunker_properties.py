"""Properties of rag_core's chunker, for any text and any valid size and overlap.

Measured with the real MiniLM tokenizer the chunker itself uses:
- chunks are never empty, and their texts are pieces of the document, in order;
- together they cover every token of the document, with no gap between neighbours;
- each chunk holds at most `chunk_size` tokens, its document's title included (a title
  longer than half of `chunk_size` leaves half of it to the text);
- neighbours share at most the configured overlap (capped at a quarter of the budget).

Generated documents are made of headings, sentences and paragraphs of words that each begin
with a unique marker ("w<n>"), so every chunk can be located in the document unambiguously.
"""

from __future__ import annotations

import bisect
import functools
import itertools
import string
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rag_core.chunking import ChunkingOptions, chunk_documents, token_spans
from rag_core.documents import LoadedDocument
from rag_core.embeddings import bundled_model_dir

LETTERS = "".join(c for c in string.ascii_lowercase if c != "w") + "éßø"


@functools.cache
def tokenizer() -> Any:
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(bundled_model_dir()))


@st.composite
def documents(draw: st.DrawFn) -> str:
    count = draw(st.integers(min_value=1, max_value=300))
    words = [f"w{i}" + draw(st.text(LETTERS, max_size=12)) for i in range(count)]
    parts: list[str] = []
    for i, word in enumerate(words):
        if i and draw(st.integers(0, 30)) == 0:
            parts.append(draw(st.sampled_from(["\n\n# ", "\n\n## ", "\n\n", "\n- "])))
        elif i:
            parts.append(draw(st.sampled_from([" ", " ", " ", ". ", "! ", ", ", "\n", "\t"])))
        parts.append(word)
    return "".join(parts)


@st.composite
def options(draw: st.DrawFn) -> ChunkingOptions:
    size = draw(st.integers(min_value=16, max_value=128))
    return ChunkingOptions(size, draw(st.integers(min_value=0, max_value=size // 2 - 1)))


def _locate(text: str, pieces: list[str]) -> list[tuple[int, int]]:
    """Character range of each chunk text in the document, searching forward."""
    ranges: list[tuple[int, int]] = []
    cursor = 0
    for piece in pieces:
        start = text.find(piece, cursor)
        assert start >= 0, f"chunk text is not a piece of the document: {piece[:80]!r}"
        ranges.append((start, start + len(piece)))
        cursor = start + 1
    return ranges


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=documents(),
    chunking=options(),
    title=st.none() | st.text(LETTERS + " ", min_size=1, max_size=60).filter(str.strip),
)
def test_chunks_cover_the_text_within_size_and_overlap(
    text: str, chunking: ChunkingOptions, title: str | None
) -> None:
    document = LoadedDocument("doc", text, None, title, {}, "hash")
    (chunks,) = chunk_documents([document], tokenizer(), chunking)
    spans = token_spans(tokenizer(), [text])[0]
    starts = [s for s, _ in spans]

    assert chunks
    assert [c.position for c in chunks] == list(range(len(chunks)))
    assert all(c.text.strip() for c in chunks)
    ranges = _locate(text, [c.text for c in chunks])

    def token_range(char_range: tuple[int, int]) -> tuple[int, int]:
        first = bisect.bisect_left(starts, char_range[0])
        last = bisect.bisect_left(starts, char_range[1])
        return first, last  # tokens [first, last) start inside the chunk

    tokens = [token_range(r) for r in ranges]
    # The title is embedded with every chunk and spends part of its budget, but the text
    # always keeps at least half of it (so title plus text may then exceed chunk_size).
    title_tokens = len(token_spans(tokenizer(), [title or ""])[0])
    budget = max(chunking.chunk_size - title_tokens - 1, chunking.chunk_size // 2)
    overlap = min(chunking.chunk_overlap, budget // 4)
    assert tokens[0][0] == 0
    assert tokens[-1][1] == len(spans)  # the last token is in the last chunk
    for first, last in tokens:
        assert 0 < last - first <= budget
        if title_tokens + 1 <= chunking.chunk_size - chunking.chunk_size // 2:
            assert title_tokens + 1 + (last - first) <= chunking.chunk_size
    for (first, last), (next_first, _) in itertools.pairwise(tokens):
        assert first < next_first <= last  # progress, and no gap between neighbours
        assert last - next_first <= overlap  # at most the configured overlap is repeated


@settings(max_examples=150, deadline=None)
@given(
    text=st.text(min_size=1, max_size=3000).filter(lambda t: t.strip()),
    chunking=options(),
)
def test_any_text_gives_non_empty_chunks_within_size(text: str, chunking: ChunkingOptions) -> None:
    document = LoadedDocument("doc", text, None, None, {}, "hash")
    (chunks,) = chunk_documents([document], tokenizer(), chunking)
    spans = token_spans(tokenizer(), [text])[0]
    assert chunks
    assert all(c.text == c.text.strip() and c.text for c in chunks)
    if len(spans) > chunking.chunk_size:
        assert len(chunks) > 1
    for chunk in chunks:
        assert chunk.text in text
