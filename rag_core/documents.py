"""Documents on their way in: what callers hand over, what loading makes of it, what comes back."""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MetadataValue = str | int | float | bool

#: Longest document id. Ids travel in URL paths (GET/DELETE /documents/{id}) and in every
#: chunk id, so they are short and plain.
MAX_DOCUMENT_ID_CHARS = 200
#: The part of the id rule a JSON schema can state (for /openapi.json); `document_id_problem`
#: adds what a schema pattern cannot: format characters and the dot segments.
DOCUMENT_ID_PATTERN = r"^[^\s/\x00-\x1f\x7f]+$"
#: Ids a URL cannot carry as a path segment: clients resolve them as "this" and "parent".
_DOT_SEGMENTS = frozenset({".", ".."})


def document_id_problem(document_id: str) -> str | None:
    """Why `document_id` cannot be a document's id, as a phrase; None when it can.

    An id must fit in one URL path segment and read the same to every reader: at most
    MAX_DOCUMENT_ID_CHARS characters, no '/', no whitespace, no control or invisible
    format characters (U+202E would show the id reversed), not '.' or '..'.
    """
    if not document_id:
        return "it is empty"
    if len(document_id) > MAX_DOCUMENT_ID_CHARS:
        return f"it is {len(document_id)} characters long, more than {MAX_DOCUMENT_ID_CHARS}"
    if document_id in _DOT_SEGMENTS:
        return "'.' and '..' cannot be addressed in a URL"
    for character in document_id:
        # Categories C* (control, format, surrogate, private, unassigned) and Z* (spaces,
        # line and paragraph separators).
        if character == "/" or unicodedata.category(character)[0] in "CZ":
            return f"it holds {_describe(character)}, which ids may not hold"
    return None


def _describe(character: str) -> str:
    if character == "/":
        return "'/'"
    return f"U+{ord(character):04X} ({unicodedata.name(character, 'a control character')})"


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


#: Defaults of the per-document limits (see DocumentLimits for what each bounds).
DEFAULT_MAX_TEXT_CHARS = 2_000_000
DEFAULT_MAX_PDF_PAGES = 2_000
DEFAULT_MAX_PDF_OBJECTS = 200_000
DEFAULT_MAX_NESTING = 256
DEFAULT_MAX_CHUNKS = 10_000
DEFAULT_PARSE_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class DocumentLimits:
    """What one document may cost, apart from its size in bytes (`max_document_bytes`).

    A small input can expand: a 2 KB PDF whose pages share one compressed stream yields
    megabytes of text, and deep nesting costs recursion. Each field is named as the setting
    that sets it (`max_text_chars` is `max_document_text_chars`), so a rejection can name it.
    """

    #: Characters of extracted text (2 million: a long book; about 2,000 chunks of prose).
    max_text_chars: int = DEFAULT_MAX_TEXT_CHARS
    max_pdf_pages: int = DEFAULT_MAX_PDF_PAGES
    #: Indirect objects a PDF's cross-reference table lists.
    max_pdf_objects: int = DEFAULT_MAX_PDF_OBJECTS
    #: Open HTML elements, or nested JSON arrays and objects, at any point (libxml2's
    #: classic depth limit; real pages and records stay far below it).
    max_nesting: int = DEFAULT_MAX_NESTING


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
class DocumentOriginal:
    """One document's original as kept in the storage tier (rag_core.document_originals):
    the document as loading made it, which is what a re-index chunks and embeds."""

    document: LoadedDocument
    #: When this version was stored (UTC, ISO 8601).
    stored_at: str


@dataclass(frozen=True)
class DocumentInfo:
    """A stored document as listed by the API."""

    id: str
    source: str | None
    metadata: dict[str, Any]
    chunks: int
    #: Only when one document is read (not in lists); None when its original is not kept
    #: (ingested before originals were).
    original: DocumentOriginal | None = None


def chunk_id(document_id: str, position: int) -> str:
    """Deterministic chunk id, so re-ingesting a document overwrites its chunks in place."""
    return f"{document_id}::{position}"


def document_of_chunk(chunk_id: str) -> str:
    """The document id a `chunk_id` was made from."""
    return chunk_id.rpartition("::")[0]


def display_name(document: DocumentInput, index: int) -> str:
    """How error messages name a document: its id, else its source, else its batch position."""
    if document.id:
        return document.id
    if document.source:
        return document.source
    return f"document #{index + 1}"
