"""Server-sent events: a line decoder (per the HTML standard) and the typed stream events.

The decoder is fed one line at a time (without its line ending) and returns an event on
each blank line that ends one; comments (`:`) and unknown fields are ignored, multi-line
`data` is joined with newlines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ragkube_client.errors import RagkubeError, error_from_envelope
from ragkube_client.models import FinalEvent, SourcesEvent, StreamEvent, TokenEvent


@dataclass(frozen=True)
class ServerSentEvent:
    """One raw event."""

    event: str
    data: str
    id: str | None = None


class SSEDecoder:
    """Turns lines of an event stream into events."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []
        self._id: str | None = None

    def feed(self, line: str) -> ServerSentEvent | None:
        """Take one line; an event when the line completes one."""
        if line.endswith("\r"):
            line = line[:-1]
        if not line:
            if not self._data and not self._event:
                return None
            event = ServerSentEvent(self._event or "message", "\n".join(self._data), self._id)
            self._event, self._data = "", []
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


def to_stream_event(raw: ServerSentEvent) -> StreamEvent | None:
    """The typed event, None for event types this SDK does not know; raises for `error`."""
    try:
        data = json.loads(raw.data) if raw.data else {}
    except ValueError as exc:
        raise RagkubeError(f"The server sent a malformed {raw.event!r} event.") from exc
    if raw.event == "error":
        raise error_from_envelope(data, None)
    if raw.event == "sources":
        return SourcesEvent.model_validate(data)
    if raw.event == "token":
        return TokenEvent.model_validate(data)
    if raw.event == "final":
        return FinalEvent.model_validate(data)
    return None
