"""Typed errors for every way a call can fail, each carrying the server's request id.

The API answers every failure with the envelope `{error, message, request_id, timestamp,
details?}`; `error_from_response` turns it into the matching exception class, so callers
can `except NotFoundError` instead of comparing status codes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

#: The most of a non-envelope error body quoted in a message; enough to recognise it.
_QUOTED_BODY_CHARS = 300


class RagkubeError(Exception):
    """Base class of every error the SDK raises."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        error: str | None = None,
        request_id: str | None = None,
        details: Any = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.error = error
        self.request_id = request_id
        self.details = details
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.message]
        if self.status_code is not None:
            parts.append(f"(HTTP {self.status_code}, {self.error or 'error'})")
        if self.request_id:
            parts.append(f"[request {self.request_id}]")
        return " ".join(parts)


class ApiConnectionError(RagkubeError):
    """The server could not be reached, or the connection broke."""


class ApiTimeoutError(ApiConnectionError):
    """The server did not answer (or finish answering) within the client's timeout."""


class InvalidResponseError(RagkubeError):
    """The server answered, but not as the API promises: not JSON, or missing fields.

    Usually something between the client and the API (a proxy, a login page, another
    service on that port) answered instead; `status_code` and `request_id` say what it
    sent, when it said.
    """


class AuthenticationError(RagkubeError):
    """401: credentials are missing, wrong or expired."""


class PermissionDeniedError(RagkubeError):
    """403: the credentials lack the scope the operation needs."""


class NotFoundError(RagkubeError):
    """404: no such document, webhook or route."""


class ValidationError(RagkubeError):
    """400, 413, 415 or 422: the request was refused as invalid; `details` says why."""


class RateLimitedError(RagkubeError):
    """429: too many requests; `retry_after` says how many seconds to wait."""


class ServerError(RagkubeError):
    """5xx: the service (or something behind it) failed; retrying later may help."""


def _class_for(status_code: int) -> type[RagkubeError]:
    if status_code == 401:
        return AuthenticationError
    if status_code == 403:
        return PermissionDeniedError
    if status_code == 404:
        return NotFoundError
    if status_code == 429:
        return RateLimitedError
    if status_code in (400, 409, 413, 415, 422):
        return ValidationError
    if status_code >= 500:
        return ServerError
    return RagkubeError


def _text(value: Any) -> str | None:
    """`value` when it is a non-empty string (a hostile body may put anything anywhere)."""
    return value if isinstance(value, str) and value.strip() else None


def error_from_envelope(
    body: Mapping[str, Any],
    status_code: int | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> RagkubeError:
    """The exception an error envelope describes (status decides the class when known)."""
    code = _text(body.get("error")) or "error"
    if status_code is None:
        status_code = 429 if code == "rate_limited" else 500
    cls = _class_for(status_code)
    envelope_request_id = body.get("request_id")
    return cls(
        _text(body.get("message")) or code,
        status_code=status_code,
        error=code,
        request_id=str(envelope_request_id) if envelope_request_id else request_id,
        details=body.get("details"),
        retry_after=retry_after,
    )


def summarise_body(content: bytes) -> str:
    """A non-envelope body as one short line: an HTML page's title, else its text."""
    text = content.decode("utf-8", "replace")
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    if title:
        text = title.group(1)
    elif "<" in text and ">" in text:
        # A proxy's error page: its tags say nothing to a person reading the message.
        text = re.sub(r"<[^>]*>", " ", text)
    flat = " ".join(text.split())
    if len(flat) > _QUOTED_BODY_CHARS:
        flat = flat[:_QUOTED_BODY_CHARS] + " …"
    return flat


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    retry_after: float | None = None,
) -> RagkubeError:
    """The exception for a failed HTTP response, read from its envelope when it has one.

    Anything else (a proxy's HTML page, an empty body, another framework's JSON) still
    gives the class its status implies, with a one-line message.
    """
    request_id = headers.get("x-request-id")
    if 300 <= status_code < 400:
        # Redirects are not followed: that would send the credentials on to wherever the
        # server points. Say where it pointed, so the caller can fix the base URL.
        location = headers.get("location")
        return RagkubeError(
            f"the server redirected to {location}; use that address as the base URL"
            if location
            else f"the server answered with a redirect (HTTP {status_code})",
            status_code=status_code,
            error="redirect",
            request_id=request_id,
        )
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or "error" not in body:
        stated: str | None = None
        if isinstance(body, dict):
            stated = _text(body.get("detail")) or _text(body.get("message"))
        body = {
            "error": "http_error",
            "message": stated or summarise_body(content) or f"HTTP {status_code}",
        }
    return error_from_envelope(body, status_code, request_id=request_id, retry_after=retry_after)
