"""How `ragkube query` shows an answer: the text, then its numbered sources."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.markup import escape
from rich.panel import Panel
from rich.text import Text

from ragkube_cli.output import terminal_safe
from ragkube_client.models import Source

SNIPPET_CHARS = 240


def source_label(source: Source) -> str:
    """`title — source` (or whichever of them the metadata has)."""
    metadata: dict[str, Any] = source.metadata
    title = terminal_safe(str(metadata.get("title") or "")).strip()
    origin = terminal_safe(str(metadata.get("source") or metadata.get("document_id") or "")).strip()
    if title and origin and title != origin:
        return f"{title} — {origin}"
    return title or origin or "(unnamed source)"


def snippet(text: str, limit: int = SNIPPET_CHARS) -> str:
    """The passage on one line, cut at a word boundary."""
    flat = " ".join(terminal_safe(text).split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0] + " …"


def sources_view(sources: Sequence[Source]) -> RenderableType:
    """Numbered sources with their similarity and a snippet."""
    if not sources:
        return Text("No sources matched.", style="dim")
    lines: list[RenderableType] = [Text("Sources", style="bold")]
    for number, source in enumerate(sources, start=1):
        line = Text()
        line.append(f"[{number}] ", style="bold cyan")
        line.append(source_label(source), style="bold")
        line.append(f"  similarity {source.similarity:.2f}", style="dim")
        lines.append(line)
        lines.append(Text("    " + snippet(source.content), style="dim"))
    return Group(*lines)


def answer_view(
    answer: str,
    sources: Sequence[Source],
    confidence: float,
    guardrails_triggered: Sequence[str],
) -> RenderableType:
    """The whole answer: a panel with the text, then the sources."""
    subtitle = f"confidence {confidence:.2f}"
    if guardrails_triggered:
        # Panel reads a str subtitle as markup; the names come from the server.
        subtitle += " · guardrails: " + escape(terminal_safe(", ".join(guardrails_triggered)))
    panel = Panel(
        Text(terminal_safe(answer).strip()), title="Answer", subtitle=subtitle, expand=True
    )
    return Group(panel, sources_view(sources))
