"""Turning raw documents (text, Markdown, HTML, PDF, JSON, JSONL) into visible text with ids.

Every failure is a `DocumentRejected` naming the document; a JSON or JSONL input holding many
records yields one outcome per record, so one bad record never loses the others. Whatever a
parser raises becomes that document's rejection, and `DocumentLimits` bounds what one input
may expand to. Every regular expression here runs in time linear in the text's length.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import logging
import re
from pathlib import PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from rag_core.documents import (
    RESERVED_METADATA_KEYS,
    DocumentInput,
    DocumentLimits,
    LoadedDocument,
    MetadataValue,
    display_name,
    document_id_problem,
    is_storable_metadata_value,
    is_valid_unicode,
)
from rag_core.errors import DocumentRejected
from rag_core.html_text import html_visible_text
from rag_core.pdf_text import pdf_text

DocumentKind = Literal["text", "markdown", "html", "pdf", "json", "jsonl"]

_MIME_KINDS: dict[str, DocumentKind] = {
    "text/plain": "text",
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/html": "html",
    "application/xhtml+xml": "html",
    "application/pdf": "pdf",
    "application/json": "json",
    "text/json": "json",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/x-jsonlines": "jsonl",
    "application/jsonlines": "jsonl",
}
_EXTENSION_KINDS: dict[str, DocumentKind] = {
    "txt": "text",
    "text": "text",
    "md": "markdown",
    "markdown": "markdown",
    "html": "html",
    "htm": "html",
    "pdf": "pdf",
    "json": "json",
    "jsonl": "jsonl",
    "ndjson": "jsonl",
}
_TEXT_FIELDS = ("text", "content", "body")
_ID_FIELDS = ("_id", "id")
#: Byte order marks of wide encodings; UTF-32 first, as its LE mark starts with UTF-16's.
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: A Markdown heading line; its text is trimmed in Python (a lazy group followed by an
#: optional run of '#' backtracked quadratically on '# a' + '#' * n + 'b').
_HEADING_LINE = re.compile(r"^#[ \t]+(.*)$", re.MULTILINE)
_BLANKS = re.compile(r"[ \t\f\v]+")
#: After _BLANKS, a run of blanks is one space: at most one on either side of a line break.
_LINE_BREAK_PADDING = re.compile(r" ?\n ?")
_BLANK_LINES = re.compile(r"\n{3,}")
LoadOutcome = LoadedDocument | DocumentRejected
DEFAULT_LIMITS = DocumentLimits()
logger = logging.getLogger(__name__)


def content_hash(data: bytes) -> str:
    """Stable id for content without one: the first 32 hex digits of its SHA-256."""
    return hashlib.sha256(data).hexdigest()[:32]


def detect_kind(document: DocumentInput, name: str) -> DocumentKind:
    """Which loader reads `document`: its content_type hint, else its source's extension."""
    hint = (document.content_type or "").split(";")[0].strip().lower()
    if hint:
        if hint in _MIME_KINDS:
            return _MIME_KINDS[hint]
        extension = hint.removeprefix(".")
        if extension in _EXTENSION_KINDS:
            return _EXTENSION_KINDS[extension]
        raise DocumentRejected(name, f"its content type {hint!r} is not supported")
    if document.source:
        path = urlsplit(document.source).path if "://" in document.source else document.source
        suffix = PurePosixPath(path).suffix.lower().removeprefix(".")
        if suffix in _EXTENSION_KINDS:
            return _EXTENSION_KINDS[suffix]
        if suffix and suffix not in {"log", "csv", "rst", "yaml", "yml"}:
            raise DocumentRejected(name, f"files ending in .{suffix} are not supported")
    if isinstance(document.content, bytes) and document.content.startswith(b"%PDF-"):
        return "pdf"
    return "text"


def load_document(
    document: DocumentInput,
    index: int,
    max_bytes: int,
    limits: DocumentLimits = DEFAULT_LIMITS,
) -> list[LoadOutcome]:
    """Read one input into documents (several for JSON record lists), or rejections.

    Never raises for bad input: whole-input problems, an input over `max_bytes` or `limits`,
    and any error a parser raises come back as a single `DocumentRejected`.
    """
    name = display_name(document, index)
    try:
        return _load(document, name, max_bytes, limits)
    except DocumentRejected as rejection:
        return [rejection]
    # The parsers (pypdf above all) raise whatever Python error a malformed file leads
    # them into (AttributeError, NotImplementedError for an unknown /Filter, RecursionError
    # for cyclic page trees): each is this document's fault alone.
    except Exception as error:
        logger.warning("A parser failed on document #%d: %s", index + 1, type(error).__name__)
        return [DocumentRejected(name, f"it could not be read ({type(error).__name__})")]


def _load(
    document: DocumentInput, name: str, max_bytes: int, limits: DocumentLimits
) -> list[LoadOutcome]:
    _require_unicode(name, document.content, document.id, document.source)
    if document.id is not None:
        _require_valid_id(name, document.id)
    raw = (
        document.content.encode("utf-8")
        if isinstance(document.content, str)
        else bytes(document.content)
    )
    if len(raw) > max_bytes:
        raise DocumentRejected(
            name,
            f"it is {len(raw)} bytes, more than the limit of {max_bytes} bytes "
            "(max_document_bytes)",
        )
    if not raw.strip():
        raise DocumentRejected(name, "it is empty")
    kind = detect_kind(document, name)
    if kind in ("json", "jsonl"):
        return _load_records(document, name, raw, kind, limits)
    if kind == "pdf":
        text, title = _pdf_text(raw, name, limits)
    else:
        decoded = _decode(raw, name)
        if kind == "html":
            text, title = html_text(decoded, name, limits.max_nesting)
        elif kind == "markdown":
            text, title = decoded, markdown_title(decoded)
        else:
            text, title = decoded, None
    return [_loaded(document, name, raw, text, title, dict(document.metadata), limits)]


def _loaded(
    document: DocumentInput,
    name: str,
    raw: bytes,
    text: str,
    title: str | None,
    metadata: dict[str, MetadataValue],
    limits: DocumentLimits,
    record_id: str | None = None,
) -> LoadedDocument:
    if len(text) > limits.max_text_chars:
        raise DocumentRejected(
            name,
            f"its text is {len(text)} characters long, more than the limit of "
            f"{limits.max_text_chars} (max_document_text_chars)",
        )
    text = _normalise_whitespace(text)
    if not text:
        raise DocumentRejected(name, "it contains no readable text")
    digest = content_hash(raw)
    return LoadedDocument(
        id=record_id or document.id or digest,
        text=text,
        source=document.source,
        title=title.strip() if title and title.strip() else None,
        metadata=_clean_metadata(metadata, name),
        content_hash=digest,
    )


def _decode(raw: bytes, name: str) -> str:
    if b"\x00" in raw[:8192]:
        # NUL bytes with a byte order mark: UTF-16 or UTF-32 text (as Windows tools write it).
        encoding = next((enc for bom, enc in _BOMS if raw.startswith(bom)), None)
        if encoding is None:
            raise DocumentRejected(name, "it looks binary, not text")
        try:
            return raw.decode(encoding).removeprefix("\ufeff")
        except UnicodeDecodeError as error:
            raise DocumentRejected(
                name, f"it is not valid {encoding} text (byte {error.start} cannot be decoded)"
            ) from error
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DocumentRejected(
            name, f"it is not valid UTF-8 text (byte {error.start} cannot be decoded)"
        ) from error


def _require_valid_id(name: str, document_id: str) -> None:
    problem = document_id_problem(document_id)
    if problem is not None:
        shown = document_id if len(document_id) <= 40 else document_id[:40] + "…"
        raise DocumentRejected(name, f"its id {shown!r} is not a valid id: {problem}")


def _require_unicode(name: str, *texts: object) -> None:
    """Reject text holding lone surrogates ("\\ud800" in JSON): it cannot be stored as UTF-8."""
    if any(isinstance(text, str) and not is_valid_unicode(text) for text in texts):
        raise DocumentRejected(name, "it is not valid Unicode text (it holds a lone surrogate)")


def _normalise_whitespace(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = _BLANKS.sub(" ", text)
    text = _LINE_BREAK_PADDING.sub("\n", text)
    return _BLANK_LINES.sub("\n\n", text).strip()


def _clean_metadata(metadata: dict[str, Any], name: str) -> dict[str, MetadataValue]:
    """Keep scalar caller metadata; drop the keys rag_core writes itself."""
    clean: dict[str, MetadataValue] = {}
    for key, value in metadata.items():
        if key in RESERVED_METADATA_KEYS or value is None:
            continue
        # Chroma refuses empty keys and keys in its own namespaces ("#document", "$where"),
        # and would refuse the whole write with them; only this document is at fault.
        if not str(key) or str(key)[0] in "#$":
            raise DocumentRejected(
                name, f"its metadata field {key!r} is empty or starts with '#' or '$'"
            )
        _require_unicode(name, key, value)
        if not is_storable_metadata_value(value):
            raise DocumentRejected(
                name,
                f"its metadata field {key!r} is not a string, a finite 64-bit number or a boolean",
            )
        clean[str(key)] = value
    return clean


def markdown_title(text: str) -> str | None:
    """The text of the first level-one heading of a Markdown text that has any, if any."""
    for match in _HEADING_LINE.finditer(text):
        # Closing hashes and the blanks around them are not part of the title ("# A #").
        title = match.group(1).rstrip().rstrip("#").rstrip()
        if title:
            return title
    return None


def html_text(markup: str, name: str, max_nesting: int) -> tuple[str, str | None]:
    """Visible text of an HTML page and its <title> (else its first heading)."""
    text, title = html_visible_text(markup, name, max_nesting)
    return text, title or markdown_title(text)


def _pdf_text(raw: bytes, name: str, limits: DocumentLimits) -> tuple[str, str | None]:
    from pypdf.errors import PyPdfError

    try:
        return pdf_text(raw, name, limits)
    # pypdf raises plain Python errors for some malformed files (AttributeError for a trailer
    # that is not a dictionary, RecursionError for cyclic page trees); the others reach
    # load_document's catch-all.
    except (
        PyPdfError,
        ValueError,
        KeyError,
        TypeError,
        OSError,
        AttributeError,
        IndexError,
        RecursionError,
    ) as error:
        raise DocumentRejected(name, f"it is not a readable PDF ({error})") from error


def _load_records(
    document: DocumentInput, name: str, raw: bytes, kind: DocumentKind, limits: DocumentLimits
) -> list[LoadOutcome]:
    text = _decode(raw, name)
    records: list[tuple[str, Any]] = []
    if kind == "jsonl":
        # Only "\n" ends a record: JSON strings may hold U+2028, U+0085 or form feeds, which
        # str.splitlines() would also split at.
        for number, line in enumerate(text.split("\n"), start=1):
            if not line.strip():
                continue
            record_name = f"{name} line {number}"
            try:
                records.append((record_name, _parse_json(line, record_name, limits)))
            except DocumentRejected as rejection:
                records.append((record_name, rejection))
    else:
        parsed = _parse_json(text, name, limits)
        if isinstance(parsed, list):
            records = [(f"{name} record {n}", item) for n, item in enumerate(parsed, start=1)]
        else:
            records = [(name, parsed)]
    if not records:
        raise DocumentRejected(name, "it holds no records")
    single = len(records) == 1
    return [
        _record(document, record_name, record, single, limits) for record_name, record in records
    ]


def _parse_json(text: str, name: str, limits: DocumentLimits) -> Any:
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as error:
        where = f"line {error.lineno}, " if "\n" in text else ""
        raise DocumentRejected(
            name, f"it is not valid JSON ({error.msg} at {where}column {error.colno})"
        ) from error
    except RecursionError as error:
        raise DocumentRejected(name, "its JSON is nested too deeply") from error
    except ValueError as error:
        # Python refuses to convert an integer of more than 4,300 digits (sys.int_info).
        raise DocumentRejected(name, "its JSON holds a number too long to read") from error
    if _nesting(parsed) > limits.max_nesting:
        raise DocumentRejected(
            name,
            f"its JSON nests arrays and objects more than {limits.max_nesting} deep "
            "(the limit max_document_nesting)",
        )
    return parsed


def _nesting(value: Any) -> int:
    """How deeply arrays and objects nest in a parsed JSON value (without recursion)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)
    return deepest


def _record(
    document: DocumentInput, name: str, record: Any, single: bool, limits: DocumentLimits
) -> LoadOutcome:
    if isinstance(record, DocumentRejected):
        return record
    try:
        if not isinstance(record, dict):
            raise DocumentRejected(name, "a JSON record must be an object")
        text = json.dumps(record, sort_keys=True, ensure_ascii=False)
        _require_unicode(name, text)
        raw = text.encode("utf-8")
        body = next((record[k] for k in _TEXT_FIELDS if isinstance(record.get(k), str)), None)
        if not isinstance(body, str):
            raise DocumentRejected(name, "its record has no string 'text' or 'content' field")
        given_id = next(
            (record[key] for key in _ID_FIELDS if record.get(key) not in (None, "")), None
        )
        if given_id is not None and not isinstance(given_id, str | int | float):
            raise DocumentRejected(name, "its record's id is not a string or a number")
        record_id = None if given_id is None else str(given_id)
        if record_id is not None:
            _require_valid_id(name, record_id)
        if single and record_id is None:
            record_id = document.id
        title = record.get("title")
        if not body.strip() and isinstance(title, str):
            body = title  # a BEIR record may have a title and no text: the title is its text
        metadata: dict[str, Any] = dict(document.metadata)
        extra = record.get("metadata")
        if isinstance(extra, dict):
            metadata.update(
                {k: v for k, v in extra.items() if isinstance(v, str | int | float | bool)}
            )
        if record_id is None:
            record_id = content_hash(raw)
        return _loaded(
            document,
            record_id,
            raw,
            body,
            title if isinstance(title, str) else None,
            metadata,
            limits,
            record_id,
        )
    except DocumentRejected as rejection:
        return rejection
