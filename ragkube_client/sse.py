"""Server-sent events: a line decoder (per the HTML standard) and the typed stream events.

The decoder is fed one line at a time (without its line ending) and returns an event on
each blank line that ends one; comments (`:`) and unknown fields are ignored, multi-line
`data` is joined with newlines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pydantic

from ragkube_client.errors import (
    ApiConnectionError,
    InvalidResponseError,
    error_from_envelope,
)
from ragkube_client.models import FinalEvent, SourcesEvent, StreamEvent, TokenEvent

_EVENT_MODELS: dict[str, type[SourcesEvent] | type[TokenEvent] | type[FinalEvent]] = {
    "sources": SourcesEvent,
    "token": TokenEvent,
    "final": FinalEvent,
}


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
    """The typed event, None for event types this SDK does not know; raises for `error`.

    An `error` event raises the error it describes (a `ServerError` when it describes
    nothing usable); an event whose data is not the promised JSON object raises
    `InvalidResponseError`.
    """
    model = _EVENT_MODELS.get(raw.event)
    if model is None and raw.event != "error":
        return None
    try:
        data = json.loads(raw.data) if raw.data else {}
    except ValueError:
        data = None
    if raw.event == "error":
        if not isinstance(data, dict) or not data:
            data = {"error": "stream_error", "message": "the server reported an error mid-stream"}
        raise error_from_envelope(data, None)
    assert model is not None
    if not isinstance(data, dict):
        raise InvalidResponseError(
            f"The server sent a malformed {raw.event!r} event.", error="invalid_response"
        )
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidResponseError(
            f"The server sent a malformed {raw.event!r} event.", error="invalid_response"
        ) from exc


class EventStreamReader:
    """Lines of a query stream in, typed events out; knows whether the stream finished.

    The API ends every stream with a `final` or an `error` event, so a stream that stops
    before either was cut (a proxy's timeout, a restarted pod); `finish` says so instead
    of letting a partial answer pass for a whole one.
    """

    def __init__(self, url: str) -> None:
        self._decoder = SSEDecoder()
        self._url = url
        self.finished = False

    def feed(self, line: str) -> StreamEvent | None:
        """Take one line; the typed event it completes, if any."""
        raw = self._decoder.feed(line)
        if raw is None:
            return None
        if self.finished:
            return None
        event = to_stream_event(raw)
        if event is not None and event.type == "final":
            self.finished = True
        return event

    def finish(self) -> None:
        """At the end of the body: ApiConnectionError unless the final event arrived."""
        # An event left without its closing blank line is discarded, as the standard says.
        if self.finished:
            return
        raise ApiConnectionError(
            f"the answer stream from {self._url} ended before its final event; "
            "the connection was probably cut"
        )
