"""How the SDK reads the wire: Retry-After, server-sent events and error envelopes."""

from __future__ import annotations

import datetime as dt

import pytest

from ragkube_client import (
    AuthenticationError,
    NotFoundError,
    RagkubeError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from ragkube_client.errors import error_from_response
from ragkube_client.models import FinalEvent, SourcesEvent, TokenEvent
from ragkube_client.retry import RetryPolicy, parse_retry_after
from ragkube_client.sse import ServerSentEvent, SSEDecoder, to_stream_event

NOW = dt.datetime(2025, 1, 1, 12, 0, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0", 0.0),
        (" 1.5 ", 1.5),
        ("Wed, 01 Jan 2025 12:00:10 GMT", 10.0),
        ("Wed, 01 Jan 2025 11:00:00 GMT", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("-5", None),
        ("nan", None),
        ("inf", None),
        ("1e3", None),
        ("\u0663", None),
    ],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(
    value: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(value, now=NOW) == seconds


def test_retries_are_bounded_in_number_and_in_wait() -> None:
    policy = RetryPolicy(max_retries=2, max_wait_seconds=5, backoff_seconds=0.5)
    assert policy.delay(0, 429, {"retry-after": "2"}) == 2
    assert policy.delay(0, 503, {}) == 0.5
    assert policy.delay(1, 503, {}) == 1.0
    assert policy.delay(2, 429, {"retry-after": "1"}) is None
    assert policy.delay(0, 429, {"retry-after": "60"}) is None
    assert policy.delay(0, 500, {}) is None


def test_sse_decoder_joins_data_lines_and_skips_comments() -> None:
    decoder = SSEDecoder()
    lines = [": keep-alive", "event: token", 'data: {"text":', 'data: "hi"}', "", ""]
    events = [e for e in (decoder.feed(line) for line in lines) if e is not None]
    assert events == [ServerSentEvent("token", '{"text":\n"hi"}')]


def test_stream_events_become_typed_models() -> None:
    sources = to_stream_event(
        ServerSentEvent("sources", '{"sources":[{"content":"c","similarity":0.5,"metadata":{}}]}')
    )
    assert isinstance(sources, SourcesEvent)
    assert isinstance(to_stream_event(ServerSentEvent("token", '{"text":"a"}')), TokenEvent)
    final = to_stream_event(ServerSentEvent("final", '{"confidence":0.7,"answer":"a"}'))
    assert isinstance(final, FinalEvent)
    assert to_stream_event(ServerSentEvent("heartbeat", "{}")) is None


def test_an_error_event_raises_with_the_envelopes_request_id() -> None:
    event = ServerSentEvent(
        "error", '{"error":"llm_timeout","message":"too slow","request_id":"abc123"}'
    )
    with pytest.raises(ServerError) as caught:
        to_stream_event(event)
    assert caught.value.request_id == "abc123"
    assert caught.value.error == "llm_timeout"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, AuthenticationError),
        (404, NotFoundError),
        (422, ValidationError),
        (429, RateLimitedError),
        (503, ServerError),
        (418, RagkubeError),
    ],
)
def test_status_codes_map_to_error_classes(status: int, cls: type[RagkubeError]) -> None:
    body = b'{"error":"x","message":"m","request_id":"r1","timestamp":"2025-01-01T00:00:00Z"}'
    error = error_from_response(status, {}, body)
    assert type(error) is cls
    assert (error.message, error.request_id, error.status_code) == ("m", "r1", status)


def test_a_body_without_an_envelope_still_gives_a_typed_error() -> None:
    error = error_from_response(502, {"x-request-id": "proxy-1"}, b"<html>Bad gateway</html>")
    assert isinstance(error, ServerError)
    assert error.request_id == "proxy-1"
    assert "Bad gateway" in error.message


def test_a_redirect_names_its_location_instead_of_a_bare_status() -> None:
    error = error_from_response(302, {"location": "https://rag.example/"}, b"")
    assert type(error) is RagkubeError
    assert "https://rag.example/" in error.message
    assert error.status_code == 302
