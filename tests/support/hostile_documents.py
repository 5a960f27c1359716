"""Hostile documents, built byte by byte, shared by the loading and API tests."""

from __future__ import annotations

import zlib


def _pdf(objects: list[bytes]) -> bytes:
    """A PDF file of `objects` (object n is objects[n - 1]) with a correct xref table."""
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def pdf_sharing_one_stream(pages: int, lines: int, filters: bytes = b"/FlateDecode") -> bytes:
    """A PDF of `pages` pages that all draw one compressed content stream of `lines` lines
    of text: a few kilobytes that expand to megabytes of extracted text (the finding of
    issue 19: 1,979 bytes, five pages, 420 chunks).

    `filters` names the stream's /Filter; an unknown name makes pypdf raise
    NotImplementedError when the page is read.
    """
    content = b"BT /F1 10 Tf 20 700 Td 12 TL\n" + b"(rivers carry water to the sea) '\n" * lines
    content += b"ET\n"
    stream = zlib.compress(content, 9)
    page_numbers = range(5, 5 + pages)
    kids = b" ".join(b"%d 0 R" % n for n in page_numbers)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, pages),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d /Filter %s >>\nstream\n" % (len(stream), filters) + stream + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 3 0 R >> >> /Contents 4 0 R >>"
    ] * pages
    return _pdf(objects)
