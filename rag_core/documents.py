"""Documents on their way in: what callers hand over, what loading makes of it, what comes back."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MetadataValue = str | int | float | bool


def is_valid_unicode(text: str) -> bool:
    """False for text holding lone surrogates ("\\ud800" in JSON): not storable as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_storable_metadata_value(value: object) -> bool:
    """True for a metadata value the vector store keeps exactly as given: Unicode text, a
    boolean, a 64-bit integer or a finite float. Chroma refuses the whole write for a larger
    integer and silently drops NaN and Infinity."""
    if isinstance(value, str):
        return is_valid_unicode(value)
    if isinstance(value, bool):
        return True
    if isinstance(value, int):
        return -(2**63) <= value < 2**63
    if isinstance(value, float):
        return math.isfinite(value)
    return False


#: Chunk metadata keys rag_core writes itself; caller metadata cannot override them.
RESERVED_METADATA_KEYS = frozenset(
    {
        "document_id",
        "source",
        "title",
        "title_prefixed",
        "position",
        "chunks",
        "section",
        "content_hash",
    }
)


@dataclass(frozen=True)
class DocumentInput:
    """One document as a caller hands it over.

    `content_type` is a MIME type or a file extension hint ("text/markdown", ".pdf", "json");
    without it the type is guessed from `source`, then defaults to plain text.
    """

    content: str | bytes
    id: str | None = None
    source: str | None = None
    content_type: str | None = None
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadedDocument:
    """Visible text of one document, ready for chunking."""

    id: str
    text: str
    source: str | None
    title: str | None
    metadata: dict[str, MetadataValue]
    content_hash: str


@dataclass(frozen=True)
class Chunk:
    """A piece of a document as stored in the vector store and the lexical index.

    `text` is what a caller sees as a source; `embed_text` (title plus text) is what gets
    embedded and indexed, so a document's title helps every one of its chunks be found.
    """

    id: str
    document_id: str
    position: int
    text: str
    embed_text: str
    metadata: dict[str, MetadataValue]


@dataclass(frozen=True)
class IngestResult:
    """The outcome for one document; `error` is a sentence naming the document."""

    document_id: str | None
    source: str | None
    ok: bool
    chunks: int
    error: str | None = None


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document as listed by the API."""

    id: str
    source: str | None
    metadata: dict[str, Any]
    chunks: int


def chunk_id(document_id: str, position: int) -> str:
    """Deterministic chunk id, so re-ingesting a document overwrites its chunks in place."""
    return f"{document_id}::{position}"


def display_name(document: DocumentInput, index: int) -> str:
    """How error messages name a document: its id, else its source, else its batch position."""
    if document.id:
        return document.id
    if document.source:
        return document.source
    return f"document #{index + 1}"
