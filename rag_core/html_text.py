"""The visible text of an HTML page, read with libxml2's HTML parser (through lxml).

Why libxml2 and not the standard library's `html.parser`: CPython's parser has inputs that
take quadratic time (CVE-2025-6069; 100 KB of `<a` repeated took 33 s), and its regular
expressions cannot be interrupted. libxml2's HTML parser is a C tokenizer that reads each
byte a bounded number of times (the same 100 KB: about a millisecond), recovers from broken
markup as browsers do (an unclosed <head> still yields its <body>), resolves entities, and
hands over events to a target object, so no tree is built and the nesting can be counted as
it grows.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from rag_core.errors import DocumentRejected

#: Elements whose content a browser does not show. Not "head": its end tag is optional, and
#: what it holds that a browser hides (scripts, styles) is hidden anyway; <title> is read apart.
_HIDDEN = frozenset({"script", "style", "noscript", "template", "svg"})
_PARAGRAPHS = frozenset({"p", "div", "section", "article"})
_LINES = frozenset(
    {
        "br",
        "li",
        "ul",
        "ol",
        "tr",
        "table",
        "pre",
        "blockquote",
        "header",
        "footer",
        "nav",
        "main",
        "aside",
        "dd",
        "dt",
        "hr",
        "body",
    }
)
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_SPACES = re.compile(r"\s+")


class _VisibleText:
    """lxml parser target: collects the text a browser would show, headings as Markdown."""

    def __init__(self, name: str, max_nesting: int) -> None:
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self._name = name
        self._max_nesting = max_nesting
        self._depth = 0
        self._hidden_depth = 0
        self._in_title = False

    def start(self, tag: str, _attributes: Any) -> None:
        self._depth += 1
        if self._depth > self._max_nesting:
            raise DocumentRejected(
                self._name,
                f"its HTML nests elements more than {self._max_nesting} deep "
                "(the limit max_document_nesting)",
            )
        if tag == "title":
            self._in_title = True
        elif tag in _HIDDEN:
            self._hidden_depth += 1
        elif tag in _HEADINGS:
            self.parts.append("\n\n" + "#" * _HEADINGS[tag] + " ")
        elif tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")

    def end(self, tag: str) -> None:
        self._depth = max(0, self._depth - 1)
        if tag == "title":
            self._in_title = False
        elif tag in _HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in _HEADINGS or tag in _PARAGRAPHS:
            self.parts.append("\n\n")
        elif tag in _LINES:
            self.parts.append("\n")

    def data(self, data: str) -> None:
        if self._in_title:
            self.title_parts.append(data)
        elif self._hidden_depth == 0:
            self.parts.append(_SPACES.sub(" ", data))

    def close(self) -> None:
        return None


def html_visible_text(markup: str, name: str, max_nesting: int) -> tuple[str, str]:
    """The visible text of `markup` (headings as Markdown headings) and its <title> text.

    Raises DocumentRejected naming `name` when elements nest deeper than `max_nesting`.
    """
    target = _VisibleText(name, max_nesting)
    parser = etree.HTMLParser(target=target, no_network=True, remove_comments=True, remove_pis=True)
    try:
        parser.feed(markup)
        parser.close()
    except etree.LxmlError as error:
        raise DocumentRejected(name, f"it is not readable HTML ({error})") from error
    return "".join(target.parts), " ".join("".join(target.title_parts).split())
