"""Structure-aware chunking measured in the embedding model's own tokens.

A document is tokenised once (a fast tokenizer gives each token's character span); chunks are
then cut at the strongest structural break that fits the budget — a heading, else a paragraph,
a line, a sentence, a word — so size and overlap are exact in model tokens and cheap to get.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from rag_core.documents import Chunk, LoadedDocument, MetadataValue, chunk_id
from rag_core.errors import DocumentRejected

#: A Markdown heading line; closing hashes are trimmed in Python, as `(.+?)[ \t#]*$` took
#: quadratic time on "# a" + "#" * n + "b" (60,000 hashes: 22 s). Every pattern here is linear.
_HEADING = re.compile(r"^#{1,6}[ \t]+(.*)$", re.MULTILINE)
_BREAKS: tuple[tuple[re.Pattern[str], int], ...] = (
    (re.compile(r"^(?=#{1,6}[ \t])", re.MULTILINE), 4),
    (re.compile(r"\n[ \t]*\n\s*"), 3),
    (re.compile(r"\n\s*"), 2),
    (re.compile(r"(?<=[.!?])[\"')\]]*\s+"), 1),
)


_T = TypeVar("_T")


class OffsetTokenizer(Protocol):
    """The part of a Hugging Face fast tokenizer chunking needs."""

    def __call__(self, text: list[str], **kwargs: object) -> object: ...


@dataclass(frozen=True)
class ChunkingOptions:
    """Chunk size and overlap in model tokens; `chunk_size` includes the title prefix."""

    chunk_size: int = 256
    chunk_overlap: int = 32

    def __post_init__(self) -> None:
        if self.chunk_size < 16:
            raise ValueError("chunk_size must be at least 16 tokens")
        if not 0 <= self.chunk_overlap < self.chunk_size // 2:
            raise ValueError("chunk_overlap must be between 0 and half of chunk_size")


def token_spans(tokenizer: OffsetTokenizer, texts: Sequence[str]) -> list[list[tuple[int, int]]]:
    """Character span of every token of every text, in one batched tokenizer call.

    A span the tokenizer could not split (see LONGEST_TOKEN_CHARS) counts as several tokens.
    """
    if not texts:
        return []
    encoded = tokenizer(
        list(texts), add_special_tokens=False, return_offsets_mapping=True, verbose=False
    )
    mappings = encoded["offset_mapping"]  # type: ignore[index]
    return [_bounded([(int(a), int(b)) for a, b in spans]) for spans in mappings]


#: Longest character span counted as one token. A WordPiece tokenizer maps a "word" of over
#: 100 characters (a base64 blob, a run of Thai, which has no spaces between words) to one
#: [UNK] spanning all of it, so a chunk of N tokens could hold any amount of text.
LONGEST_TOKEN_CHARS = 16
#: Characters counted per token in such a span: about a word piece's length.
CHARS_PER_LONG_TOKEN = 4


def _bounded(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """`spans` with each over-long span cut into word-piece-sized pieces."""
    if all(end - start <= LONGEST_TOKEN_CHARS for start, end in spans):
        return spans
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if end - start <= LONGEST_TOKEN_CHARS:
            out.append((start, end))
            continue
        out.extend(
            (piece, min(piece + CHARS_PER_LONG_TOKEN, end))
            for piece in range(start, end, CHARS_PER_LONG_TOKEN)
        )
    return out


def chunk_documents(
    documents: Sequence[LoadedDocument], tokenizer: OffsetTokenizer, options: ChunkingOptions
) -> list[list[Chunk]]:
    """Chunks of each document, in order; chunk ids are `<document id>::<position>`."""
    spans = token_spans(tokenizer, [d.text for d in documents])
    titles = token_spans(tokenizer, [d.title or "" for d in documents])
    return [
        _chunk_one(document, doc_spans, len(title_spans), options)
        for document, doc_spans, title_spans in zip(documents, spans, titles, strict=True)
    ]


def _chunk_one(
    document: LoadedDocument,
    spans: list[tuple[int, int]],
    title_tokens: int,
    options: ChunkingOptions,
) -> list[Chunk]:
    # The title is embedded with every chunk, so it spends part of each chunk's budget.
    budget = max(options.chunk_size - title_tokens - 1, options.chunk_size // 2)
    overlap = min(options.chunk_overlap, budget // 4)
    pieces = list(_cut(document.text, spans, budget, overlap))
    headings = headings_of(document.text)
    heading_starts = [start for start, _ in headings]
    title = document.title or document.source or document.id
    chunks: list[Chunk] = []
    for position, (start, end) in enumerate(pieces):
        text = document.text[start:end].strip()
        indexed = embed_text(document.title, text)
        index = bisect.bisect_right(heading_starts, start) - 1
        section = headings[index][1] if index >= 0 else ""
        metadata: dict[str, MetadataValue] = {
            **document.metadata,
            "document_id": document.id,
            "source": document.source or "",
            "title": title,
            "position": position,
            "chunks": len(pieces),
            "section": section,
            "title_prefixed": indexed != text,
            "content_hash": document.content_hash,
        }
        chunks.append(
            Chunk(
                id=chunk_id(document.id, position),
                document_id=document.id,
                position=position,
                text=text,
                embed_text=indexed,
                metadata=metadata,
            )
        )
    return chunks


def within_chunk_limit(
    documents: Sequence[_T], chunked: Sequence[list[Chunk]], limit: int
) -> tuple[list[_T], list[list[Chunk]], dict[str, DocumentRejected]]:
    """The documents (and their chunks) of at most `limit` chunks, and a rejection naming the
    limit for each document id over it: embedding costs per chunk, so this bounds a
    document's cost whatever its text is made of."""
    kept: list[_T] = []
    kept_chunks: list[list[Chunk]] = []
    rejected: dict[str, DocumentRejected] = {}
    for document, chunks in zip(documents, chunked, strict=True):
        if len(chunks) > limit:
            rejected[chunks[0].document_id] = DocumentRejected(
                chunks[0].document_id,
                f"it makes {len(chunks)} chunks, more than the limit of {limit} "
                "(max_document_chunks)",
            )
        else:
            kept.append(document)
            kept_chunks.append(chunks)
    return kept, kept_chunks, rejected


def headings_of(text: str) -> list[tuple[int, str]]:
    """Where each Markdown heading of `text` starts, and its text without the closing hashes."""
    return [(m.start(), m.group(1).rstrip(" \t#").strip()) for m in _HEADING.finditer(text)]


def embed_text(title: str | None, text: str) -> str:
    """What gets embedded and indexed for a chunk: its document's title, then its text."""
    if not title or text.lstrip("# ").startswith(title):
        return text
    return f"{title}\n{text}"


def _cut(
    text: str, spans: list[tuple[int, int]], budget: int, overlap: int
) -> list[tuple[int, int]]:
    """Character ranges of the chunks: at most `budget` tokens, `overlap` tokens shared."""
    count = len(spans)
    if count <= budget:
        return [(0, len(text))]
    starts = [s for s, _ in spans]
    # Best break priority at each token index where a new segment may begin.
    priority: dict[int, int] = {}
    for pattern, rank in _BREAKS:
        for match in pattern.finditer(text):
            token = bisect.bisect_left(starts, match.end())
            if 0 < token < count and priority.get(token, -1) < rank:
                priority[token] = rank
    ranges: list[tuple[int, int]] = []
    start = 0
    while start < count:
        limit = start + budget
        end = count if limit >= count else _best_break(priority, spans, start + budget // 2, limit)
        ranges.append((spans[start][0], spans[end - 1][1]))
        if end >= count:
            break
        start = max(start + 1, _overlap_start(priority, spans, end - overlap, end))
    return ranges


def _best_break(priority: dict[int, int], spans: list[tuple[int, int]], low: int, high: int) -> int:
    best, best_rank = -1, -1
    for token in range(high, low, -1):
        rank = priority.get(token, -1)
        if rank > best_rank:
            best, best_rank = token, rank
    if best_rank >= 0:
        return best
    for token in range(high, low, -1):
        if spans[token][0] > spans[token - 1][1]:  # whitespace before it: a word boundary
            return token
    return high


def _overlap_start(
    priority: dict[int, int], spans: list[tuple[int, int]], low: int, end: int
) -> int:
    """Where the next chunk begins: a sentence start inside the overlap, else a word start."""
    if low >= end:
        return end
    for token in range(low, end):
        if priority.get(token, -1) >= 1:
            return token
    for token in range(low, end):
        if spans[token][0] > spans[token - 1][1]:
            return token
    return low
