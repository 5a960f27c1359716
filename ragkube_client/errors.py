"""Typed errors for every way a call can fail, each carrying the server's request id.

The API answers every failure with the envelope `{error, message, request_id, timestamp,
details?}`; `error_from_response` turns it into the matching exception class, so callers
can `except NotFoundError` instead of comparing status codes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any


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


def error_from_envelope(
    body: Mapping[str, Any],
    status_code: int | None,
    *,
    request_id: str | None = None,
    retry_after: float | None = None,
) -> RagkubeError:
    """The exception an error envelope describes (status decides the class when known)."""
    code = str(body.get("error") or "error")
    if status_code is None:
        status_code = 429 if code == "rate_limited" else 500
    cls = _class_for(status_code)
    return cls(
        str(body.get("message") or code),
        status_code=status_code,
        error=code,
        request_id=str(body["request_id"]) if body.get("request_id") else request_id,
        details=body.get("details"),
        retry_after=retry_after,
    )


def error_from_response(
    status_code: int,
    headers: Mapping[str, str],
    content: bytes,
    retry_after: float | None = None,
) -> RagkubeError:
    """The exception for a failed HTTP response, read from its envelope when it has one."""
    request_id = headers.get("x-request-id")
    try:
        body = json.loads(content) if content else None
    except (ValueError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict) or "error" not in body:
        text = content.decode("utf-8", "replace").strip()[:500]
        body = {"error": "http_error", "message": text or f"HTTP {status_code}"}
    return error_from_envelope(body, status_code, request_id=request_id, retry_after=retry_after)
