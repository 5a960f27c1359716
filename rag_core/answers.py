"""What a query gives back: sources, answers and stream events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True)
class Source:
    """A retrieved chunk; `similarity` is the query-chunk cosine similarity clipped to [0, 1].

    `metadata` holds document_id, source, title, position, section and the caller's metadata.
    """

    content: str
    similarity: float
    metadata: dict[str, Any]


@dataclass(frozen=True)
class QueryResult:
    """The answer to one query and how it was reached; timings are in seconds."""

    answer: str
    sources: list[Source]
    confidence: float
    guardrails_triggered: list[str]
    timings: dict[str, float]
    blocked: bool = False
    #: The question actually used for retrieval (a follow-up condensed with its history).
    standalone_query: str | None = None


StreamEventType = Literal["sources", "token", "final"]


@dataclass(frozen=True)
class StreamEvent:
    """One server-sent event: "sources" first, then "token"s, then one "final"."""

    type: StreamEventType
    data: dict[str, Any] = field(default_factory=dict)
