"""The text of a PDF (pypdf), within page, object and extracted-text limits.

A PDF's cost is not its size: pages may share one compressed stream (2.7 KB became 2.2
million characters in 9 s), and a cross-reference table may list any number of objects. The
limits are checked before the work they bound — objects and pages before any page is read,
the text after each page — so a hostile file stops early. What a single page costs is
bounded by pypdf's own cap on decompressed output and, in the API, by the parse deadline.
"""

from __future__ import annotations

import io

from rag_core.documents import DocumentLimits
from rag_core.errors import DocumentRejected


def pdf_text(raw: bytes, name: str, limits: DocumentLimits) -> tuple[str, str | None]:
    """The text of each page, pages apart by a blank line, and the document's title.

    Raises DocumentRejected naming `name` for an unreadable file or one over `limits`.
    """
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw))
    objects = sum(len(table) for table in reader.xref.values()) + len(reader.xref_objStm)
    if objects > limits.max_pdf_objects:
        raise DocumentRejected(
            name,
            f"its PDF lists {objects} objects, more than the limit of "
            f"{limits.max_pdf_objects} (max_pdf_objects)",
        )
    count = len(reader.pages)
    if count > limits.max_pdf_pages:
        raise DocumentRejected(
            name,
            f"its PDF has {count} pages, more than the limit of "
            f"{limits.max_pdf_pages} (max_pdf_pages)",
        )
    pages: list[str] = []
    length = 0
    for page in reader.pages:
        pages.append(page.extract_text() or "")
        length += len(pages[-1]) + 2
        if length > limits.max_text_chars:
            raise DocumentRejected(
                name,
                f"its PDF's text runs past the limit of {limits.max_text_chars} characters "
                f"(max_document_text_chars) by page {len(pages)} of {count}",
            )
    title = reader.metadata.title if reader.metadata else None
    return "\n\n".join(pages), str(title) if title else None
