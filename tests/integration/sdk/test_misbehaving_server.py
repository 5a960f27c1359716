"""Both Python clients against a server that answers badly: one typed error, never a hang.

Every failure must surface as a `RagkubeError` subclass (with the envelope's code, message
and request id when there is one) — never a pydantic, json or httpx exception — and must
arrive within the client's timeout, whatever the server does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

import pytest

from ragkube_client import (
    ApiConnectionError,
    ApiTimeoutError,
    AsyncRagkubeClient,
    InvalidResponseError,
    NotFoundError,
    RagkubeClient,
    RagkubeError,
    RateLimitedError,
    RetryPolicy,
    ServerError,
    ValidationError,
)
from ragkube_client.responses import MAX_RESPONSE_BYTES
from tests.integration.sdk.misbehaving_server import (
    Answer,
    event_stream,
    http_response,
    misbehaving_server,
    send,
    silence,
    trickle,
)

NO_RETRIES = RetryPolicy(max_retries=0)
SOURCES = 'event: sources\ndata: {"sources":[]}\n\n'
TOKEN = 'event: token\ndata: {"text":"Hel"}\n\n'
FINAL = 'event: final\ndata: {"confidence":0.5,"answer":"Hel"}\n\n'
RATE_LIMITED = b'{"error":"rate_limited","message":"slow down","request_id":"rl-1"}'

#: "sync" and "async": every behaviour is checked on both clients.
KINDS = ["sync", "async"]


def call(kind: str, url: str, operation: str, *args: Any, **options: Any) -> Any:
    """Run one client call on the sync or the async client, as a user would."""
    if kind == "sync":
        with RagkubeClient(url, api_key="rk_test-key", **options) as client:
            result = getattr(client, operation)(*args)
            return list(result) if operation == "query_stream" else result

    async def run() -> Any:
        async with AsyncRagkubeClient(url, api_key="rk_test-key", **options) as client:
            if operation == "query_stream":
                return [event async for event in client.query_stream(*args)]
            return await getattr(client, operation)(*args)

    return asyncio.run(run())


def failure(kind: str, answer: Answer, operation: str = "stats", *args: Any, **options: Any) -> Any:
    """The exception one call raises against a server that answers with `answer`."""
    options.setdefault("retry", NO_RETRIES)
    options.setdefault("timeout", 5)
    with misbehaving_server(answer) as server:
        try:
            call(kind, server.url, operation, *args, **options)
        except Exception as exc:
            return exc
    raise AssertionError(f"{operation} did not fail")


# --- bodies that are not what the API promises ---------------------------------------------------

PROXY_PAGE = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>"
)


@pytest.mark.parametrize("kind", KINDS)
def test_a_proxys_html_error_page_becomes_a_one_line_server_error(kind: str) -> None:
    response = http_response(
        "502 Bad Gateway", PROXY_PAGE, content_type="text/html", headers=["x-request-id: edge-7"]
    )
    error = failure(kind, send(response))
    assert type(error) is ServerError
    assert (error.message, error.status_code, error.request_id) == (
        "502 Bad Gateway",
        502,
        "edge-7",
    )


@pytest.mark.parametrize("kind", KINDS)
def test_json_that_is_not_our_envelope_uses_its_detail_as_the_message(kind: str) -> None:
    error = failure(kind, send(http_response("404 Not Found", b'{"detail":"Not Found"}')))
    assert type(error) is NotFoundError
    assert error.message == "Not Found"


@pytest.mark.parametrize("kind", KINDS)
def test_an_envelope_with_fields_of_the_wrong_type_still_gives_a_readable_error(
    kind: str,
) -> None:
    body = b'{"error":{"nested":1},"message":["a","list"],"request_id":"rq-5"}'
    error = failure(kind, send(http_response("400 Bad Request", body)))
    assert type(error) is ValidationError
    assert (error.error, error.message, error.request_id) == ("error", "error", "rq-5")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"documents": 3, "chunks"', "not JSON"),
        (b"", "an empty body"),
        (b"<html><body>Please log in</body></html>", "Please log in"),
        (b'{"documents": 3}', "chunks: Field required"),
    ],
    ids=["truncated", "empty", "html", "missing-fields"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_200_that_is_not_the_promised_model_raises_invalid_response(
    kind: str, body: bytes, reason: str
) -> None:
    response = http_response("200 OK", body, headers=["x-request-id: rq-200"])
    error = failure(kind, send(response))
    assert type(error) is InvalidResponseError
    assert reason in error.message
    assert (error.status_code, error.request_id) == (200, "rq-200")


@pytest.mark.parametrize("kind", KINDS)
def test_a_list_endpoint_answering_an_object_raises_invalid_response(kind: str) -> None:
    error = failure(kind, send(http_response("200 OK", b'{"items": []}')), "list_webhooks")
    assert type(error) is InvalidResponseError


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_that_cannot_be_decompressed_raises_invalid_response(kind: str) -> None:
    response = http_response("200 OK", b"not gzip at all", headers=["content-encoding: gzip"])
    assert type(failure(kind, send(response))) is InvalidResponseError


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_larger_than_the_limit_is_refused_without_reading_it_all(kind: str) -> None:
    size = MAX_RESPONSE_BYTES + 2**20
    head = f"HTTP/1.1 200 OK\r\ncontent-length: {size}\r\n\r\n".encode()
    error = failure(kind, send(head + b"x" * size))
    assert type(error) is InvalidResponseError
    assert "larger than" in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_redirect_is_not_followed_and_names_where_it_points(kind: str) -> None:
    response = http_response("301 Moved Permanently", headers=["location: https://api.example/"])
    with misbehaving_server(send(response)) as server, pytest.raises(RagkubeError) as caught:
        call(kind, server.url, "stats", retry=NO_RETRIES)
    assert "https://api.example/" in caught.value.message
    assert server.hits == 1


# --- connections that fail or never finish -------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_never_answers_times_out_as_configured(kind: str) -> None:
    started = time.monotonic()
    error = failure(kind, silence(10), timeout=0.5)
    assert type(error) is ApiTimeoutError
    assert time.monotonic() - started < 3


@pytest.mark.parametrize("kind", KINDS)
def test_a_server_that_trickles_its_body_cannot_outlast_the_timeout(kind: str) -> None:
    started = time.monotonic()
    error = failure(kind, trickle(10), timeout=1)
    assert type(error) is ApiTimeoutError
    assert time.monotonic() - started < 4


@pytest.mark.parametrize("kind", KINDS)
def test_a_body_cut_short_raises_a_connection_error(kind: str) -> None:
    cut = b'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"status"'
    assert type(failure(kind, send(cut))) is ApiConnectionError


@pytest.mark.parametrize("kind", KINDS)
def test_credentials_in_the_base_url_never_appear_in_errors(kind: str) -> None:
    with misbehaving_server(send(b"")) as server:
        port = server.url.rsplit(":", 1)[1]
    with pytest.raises(ApiConnectionError) as caught:
        call(kind, f"http://admin:hunter2@127.0.0.1:{port}", "health", retry=NO_RETRIES)
    assert "hunter2" not in str(caught.value)
    assert "cannot reach the ragkube API at http://127.0.0.1" in str(caught.value)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("url", ["localhost:8000", "127.0.0.1:8000", "ftp://host", "http://[::1"])
def test_a_base_url_without_an_http_scheme_is_refused_when_the_client_is_made(
    kind: str, url: str
) -> None:
    client_class: Callable[..., Any] = RagkubeClient if kind == "sync" else AsyncRagkubeClient
    with pytest.raises(ValueError, match="base URL"):
        client_class(url)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("key", ["rk_bad key", "rk_ключ", "rk_a\r\nX-Injected: 1"])
def test_a_credential_no_header_can_carry_is_refused_without_quoting_it(
    kind: str, key: str
) -> None:
    client_class: Callable[..., Any] = RagkubeClient if kind == "sync" else AsyncRagkubeClient
    with pytest.raises(ValueError, match="API key contains characters") as caught:
        client_class("http://127.0.0.1:1", api_key=key)
    assert key not in str(caught.value)
    assert "rk_" not in str(caught.value)


@pytest.mark.parametrize("kind", KINDS)
def test_a_key_with_a_trailing_newline_is_sent_without_it(kind: str) -> None:
    ok = http_response("200 OK", b'{"status":"ok"}')
    with misbehaving_server(send(ok)) as server:
        if kind == "sync":
            with RagkubeClient(server.url, api_key="rk_from-a-file\n") as client:
                client.health()
        else:

            async def run() -> None:
                async with AsyncRagkubeClient(server.url, api_key="rk_from-a-file\n") as client:
                    await client.health()

            asyncio.run(run())
    assert b"x-api-key: rk_from-a-file" in server.request_heads[0].lower().split(b"\r\n")


# --- retries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("retry_after", ["-5", "nan", "inf", "soon", "1e9"])
def test_a_garbage_retry_after_falls_back_to_backoff_instead_of_retrying_at_once(
    kind: str, retry_after: str
) -> None:
    refused = http_response(
        "429 Too Many Requests", RATE_LIMITED, headers=[f"retry-after: {retry_after}"]
    )
    policy = RetryPolicy(max_retries=2, backoff_seconds=0.2)
    started = time.monotonic()
    with misbehaving_server(send(refused)) as server, pytest.raises(RateLimitedError) as caught:
        call(kind, server.url, "stats", retry=policy)
    assert server.hits == 3
    assert time.monotonic() - started >= 0.6  # 0.2 + 0.4 of backoff, not 0
    assert caught.value.retry_after is None
    assert caught.value.request_id == "rl-1"


@pytest.mark.parametrize("kind", KINDS)
def test_a_retry_after_as_an_http_date_in_the_past_retries_at_once(kind: str) -> None:
    refused = http_response(
        "503 Service Unavailable",
        b'{"error":"vector_store_unavailable","message":"later"}',
        headers=["retry-after: Wed, 21 Oct 2015 07:28:00 GMT"],
    )
    with misbehaving_server(send(refused), send(http_response("200 OK", b"[]"))) as server:
        assert call(kind, server.url, "list_webhooks", retry=RetryPolicy(max_retries=1)) == []
    assert server.hits == 2


# --- streams -------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_that_ends_before_its_final_event_raises_instead_of_passing_as_whole(
    kind: str,
) -> None:
    error = failure(kind, event_stream([SOURCES, TOKEN]), "query_stream", "q")
    assert type(error) is ApiConnectionError
    assert "before its final event" in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_cut_mid_chunk_raises_a_connection_error(kind: str) -> None:
    error = failure(kind, event_stream([SOURCES, TOKEN], finish=False), "query_stream", "q")
    assert type(error) is ApiConnectionError


@pytest.mark.parametrize("kind", KINDS)
def test_a_stream_that_stalls_times_out(kind: str) -> None:
    def stall(conn: Any) -> None:
        event_stream([SOURCES], finish=False)(conn)
        time.sleep(10)

    started = time.monotonic()
    error = failure(kind, stall, "query_stream", "q", timeout=0.5)
    assert type(error) is ApiTimeoutError
    assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    "bad_event",
    [
        'event: token\ndata: {"nottext": 1}\n\n',
        "event: sources\ndata: [1, 2]\n\n",
        'event: token\ndata: {"text":\n\n',
    ],
    ids=["missing-field", "not-an-object", "malformed-json"],
)
@pytest.mark.parametrize("kind", KINDS)
def test_a_malformed_event_raises_invalid_response(kind: str, bad_event: str) -> None:
    error = failure(kind, event_stream([SOURCES, bad_event, FINAL]), "query_stream", "q")
    assert type(error) is InvalidResponseError


@pytest.mark.parametrize("data", ["null", "[1]", ""])
@pytest.mark.parametrize("kind", KINDS)
def test_an_error_event_without_an_envelope_still_raises_a_server_error(
    kind: str, data: str
) -> None:
    error_event = f"event: error\ndata: {data}\n\n" if data else "event: error\n\n"
    error = failure(kind, event_stream([SOURCES, error_event]), "query_stream", "q")
    assert type(error) is ServerError
    assert error.message == "the server reported an error mid-stream"


@pytest.mark.parametrize("kind", KINDS)
def test_an_error_event_mid_stream_carries_the_envelopes_code_and_request_id(kind: str) -> None:
    envelope = '{"error":"llm_timeout","message":"The model did not answer.","request_id":"rq-s"}'
    error = failure(
        kind,
        event_stream([SOURCES, TOKEN, f"event: error\ndata: {envelope}\n\n"]),
        "query_stream",
        "q",
    )
    assert type(error) is ServerError
    assert (error.error, error.request_id) == ("llm_timeout", "rq-s")


@pytest.mark.parametrize("kind", KINDS)
def test_a_200_that_is_not_an_event_stream_raises_invalid_response(kind: str) -> None:
    page = http_response("200 OK", b"<html>captive portal</html>", content_type="text/html")
    error = failure(kind, send(page), "query_stream", "q")
    assert type(error) is InvalidResponseError
    assert "not an event stream" in error.message


@pytest.mark.parametrize("kind", KINDS)
def test_comments_and_unknown_lines_in_a_stream_are_ignored(kind: str) -> None:
    noisy = [
        ": keep-alive\n\n",
        "garbage without a colon\n",
        SOURCES,
        "retry: 10\n\n",
        TOKEN,
        FINAL,
    ]
    with misbehaving_server(event_stream(noisy)) as server:
        events = call(kind, server.url, "query_stream", "q", retry=NO_RETRIES)
    assert [event.type for event in events] == ["sources", "token", "final"]
