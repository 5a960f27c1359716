"""Reading answers defensively, the same way for the sync and the async client.

A server (or whatever answers in its place: a proxy, a login page, a port taken by
something else) may send anything. Everything here turns what arrived into either the
typed model the API promises or one `RagkubeError`, and bounds how much is read and for
how long, so a hostile or broken server can neither crash the caller with a library's
exception nor keep a call alive forever by trickling bytes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit, urlunsplit

import httpx
import pydantic

from ragkube_client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    InvalidResponseError,
    RagkubeError,
    summarise_body,
)

#: The largest successful answer read; the API's biggest (a page of documents) is far less.
MAX_RESPONSE_BYTES = 64 * 2**20
#: The most of an error body read: an envelope is small, a proxy's page is only quoted.
MAX_ERROR_BYTES = 64 * 2**10

Model = TypeVar("Model", bound=pydantic.BaseModel)


@dataclass(frozen=True)
class Reply:
    """A complete, bounded HTTP answer."""

    status_code: int
    headers: httpx.Headers
    content: bytes

    @property
    def request_id(self) -> str | None:
        """The server's request id header, when it sent one."""
        request_id: str | None = self.headers.get("x-request-id")
        return request_id


def check_base_url(base_url: str) -> str:
    """`base_url` without trailing slashes; ValueError unless it is an http(s) URL with a host.

    Checked up front because httpx would accept "localhost:8000" (scheme "localhost") and
    fail only at the first call, with an error that reads like an unreachable server.
    """
    url = base_url.strip().rstrip("/")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises ValueError for a port that is not a number)
    except ValueError as exc:
        raise ValueError(f"the base URL {safe_url(url)!r} is not a valid URL") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(
            f"the base URL {safe_url(url)!r} must start with http:// or https:// "
            "and name a host, e.g. http://127.0.0.1:8000"
        )
    return url


def safe_url(url: str) -> str:
    """`url` without a user name or password, fit for messages and logs."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(an invalid URL)"
    if parts.username is None and parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, parts.query, parts.fragment))


def transport_error(exc: httpx.RequestError, url: str, timeout: float) -> RagkubeError:
    """The SDK error for an httpx failure to send a request or to receive its answer."""
    where = safe_url(url)
    if isinstance(exc, httpx.TimeoutException):
        return ApiTimeoutError(f"the ragkube API at {where} did not answer within {timeout:g} s")
    if isinstance(exc, httpx.ConnectError):
        return ApiConnectionError(f"cannot reach the ragkube API at {where}: {exc}")
    if isinstance(exc, httpx.LocalProtocolError):
        # Its text quotes the offending header value, which may be a credential.
        return ApiConnectionError(
            f"the request to {where} could not be sent: a header value is not valid HTTP"
        )
    if isinstance(exc, httpx.DecodingError):
        return InvalidResponseError(f"the answer from {where} could not be decoded: {exc}")
    return ApiConnectionError(f"the connection to the ragkube API at {where} failed: {exc}")


class BodyReader:
    """Collects a body chunk by chunk, within a size limit and a deadline.

    httpx's timeout bounds each read, not the whole answer; the deadline bounds the whole.
    A successful answer over the limit is refused; an error body is cut at the limit,
    since only its start is ever shown.
    """

    def __init__(self, *, success: bool, timeout: float, url: str, started: float) -> None:
        self._success = success
        self._limit = MAX_RESPONSE_BYTES if success else MAX_ERROR_BYTES
        self._deadline = started + timeout
        self._timeout = timeout
        self._url = url
        self._chunks: list[bytes] = []
        self._size = 0

    def add(self, chunk: bytes) -> bool:
        """Take one chunk; False once enough of an error body has been read."""
        room = self._limit - self._size
        if len(chunk) > room:
            if self._success:
                raise InvalidResponseError(
                    f"the answer from {safe_url(self._url)} is larger than "
                    f"{self._limit // 2**20} MiB; refusing to read it"
                )
            self._chunks.append(chunk[:room])
            self._size = self._limit
            return False
        self._chunks.append(chunk)
        self._size += len(chunk)
        if time.monotonic() > self._deadline:
            raise ApiTimeoutError(
                f"the ragkube API at {safe_url(self._url)} did not finish answering "
                f"within {self._timeout:g} s"
            )
        return True

    @property
    def content(self) -> bytes:
        """Everything read so far."""
        return b"".join(self._chunks)


def read_body(response: httpx.Response, *, timeout: float, url: str) -> bytes:
    """A streamed response's body, within its size limit and `timeout` from now.

    The deadline starts at the headers: the server's work before answering (a large
    ingestion) is bounded per read by httpx, not by this deadline.
    """
    body = BodyReader(
        success=response.is_success, timeout=timeout, url=url, started=time.monotonic()
    )
    for chunk in response.iter_bytes():
        if not body.add(chunk):
            break
    return body.content


async def aread_body(response: httpx.Response, *, timeout: float, url: str) -> bytes:
    """`read_body` for an async client's response."""
    body = BodyReader(
        success=response.is_success, timeout=timeout, url=url, started=time.monotonic()
    )
    async for chunk in response.aiter_bytes():
        if not body.add(chunk):
            break
    return body.content


def parse(model: type[Model], reply: Reply) -> Model:
    """The model the answer holds; InvalidResponseError when it holds something else."""
    try:
        return model.model_validate_json(reply.content)
    except pydantic.ValidationError as exc:
        raise _invalid(reply, model.__name__, exc) from exc


def parse_list(model: type[Model], reply: Reply) -> list[Model]:
    """A JSON array of `model`; InvalidResponseError when the answer is anything else."""
    try:
        return pydantic.TypeAdapter(list[model]).validate_json(reply.content)  # type: ignore[valid-type]
    except pydantic.ValidationError as exc:
        raise _invalid(reply, f"list of {model.__name__}", exc) from exc


def _invalid(reply: Reply, what: str, exc: pydantic.ValidationError) -> InvalidResponseError:
    first = exc.errors()[0] if exc.error_count() else None
    if first is not None and first["type"] == "json_invalid":
        snippet = summarise_body(reply.content) or "an empty body"
        reason = f"it is not JSON: {snippet}"
    elif first is not None:
        where = ".".join(str(part) for part in first["loc"]) or "the body"
        reason = f"{where}: {first['msg']}"
    else:
        reason = "it does not match"
    return InvalidResponseError(
        f"the server's answer is not a valid {what} ({reason})",
        status_code=reply.status_code,
        error="invalid_response",
        request_id=reply.request_id,
    )


def check_event_stream(reply_headers: Mapping[str, str], url: str) -> None:
    """InvalidResponseError unless a 200 to a streaming request is really an event stream."""
    content_type = reply_headers.get("content-type", "")
    if not content_type.lower().startswith("text/event-stream"):
        raise InvalidResponseError(
            f"the answer from {safe_url(url)} is not an event stream "
            f"(content type {content_type or 'missing'!r})",
            error="invalid_response",
            request_id=reply_headers.get("x-request-id"),
        )
