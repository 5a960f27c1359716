"""One error envelope for every 4xx and 5xx answer, and the one place domain errors map to HTTP.

Every error body is `{error, message, request_id, timestamp, details?}`: `error` is a stable
machine-readable code, `message` a sentence for people, `details` optional structured data
(for example the fields that failed validation). Stack traces and exception texts of
unexpected errors never reach the client; they are logged once with the request id.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.request_context import current_request_id
from rag_core.errors import (
    DocumentRejected,
    IndexModelMismatch,
    InvalidQuery,
    LexicalIndexUnavailable,
    LimitExceeded,
    LLMRateLimited,
    LLMTimeout,
    LLMUnavailable,
    RagError,
    VectorStoreUnavailable,
)

log = structlog.get_logger("api.errors")


class ApiError(Exception):
    """An error the API raises on purpose; rendered as the envelope with its status."""

    def __init__(
        self,
        status_code: int,
        error: str,
        message: str,
        *,
        details: Any = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.error = error
        self.message = message
        self.details = details
        self.headers = dict(headers or {})


def envelope(
    error: str, message: str, *, request_id: str | None = None, details: Any = None
) -> dict[str, Any]:
    """The error body every 4xx/5xx answer carries."""
    body: dict[str, Any] = {
        "error": error,
        "message": message,
        "request_id": request_id if request_id is not None else current_request_id(),
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
    }
    if details is not None:
        body["details"] = details
    return body


def error_response(
    status_code: int,
    error: str,
    message: str,
    *,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """A JSONResponse holding the envelope."""
    return JSONResponse(
        envelope(error, message, details=details),
        status_code=status_code,
        headers=dict(headers or {}),
    )


def envelope_bytes(status_code: int, error: str, message: str) -> bytes:
    """The envelope serialised, for middleware that answers before routing."""
    return json.dumps(envelope(error, message)).encode()


_HTTP_CODES: dict[int, str] = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "rate_limited",
    500: "internal_error",
    502: "bad_gateway",
    503: "service_unavailable",
    504: "gateway_timeout",
}


def code_for_status(status_code: int) -> str:
    """The stable `error` code of an HTTP status."""
    return _HTTP_CODES.get(status_code, "http_error" if status_code < 500 else "server_error")


def map_rag_error(exc: RagError) -> ApiError:
    """The HTTP meaning of a rag_core domain error."""
    if isinstance(exc, DocumentRejected):
        return ApiError(
            422,
            "document_rejected",
            str(exc),
            details={"document": exc.document, "reason": exc.reason},
        )
    if isinstance(exc, IndexModelMismatch):
        # Not worth retrying: it lasts until an index built with this configuration is active.
        return ApiError(503, "index_model_mismatch", str(exc), details=exc.details)
    if isinstance(exc, LimitExceeded):
        limit = {"limit": exc.limit, "maximum": exc.maximum}
        return ApiError(400, "limit_exceeded", str(exc), details=limit)
    if isinstance(exc, InvalidQuery):
        return ApiError(400, "invalid_query", str(exc))
    if isinstance(exc, LexicalIndexUnavailable):
        return ApiError(
            503,
            "lexical_index_unavailable",
            "The lexical index could not be reached; try again shortly, or query in dense "
            "or hybrid mode.",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, VectorStoreUnavailable):
        return ApiError(
            503,
            "vector_store_unavailable",
            "The vector store could not be reached; try again shortly.",
            headers={"Retry-After": "5"},
        )
    if isinstance(exc, LLMRateLimited):
        retry = exc.retry_after if exc.retry_after is not None else 10.0
        return ApiError(
            503,
            "llm_rate_limited",
            "The language model is rate limiting this service; try again later.",
            headers={"Retry-After": str(max(1, round(retry)))},
        )
    if isinstance(exc, LLMTimeout):
        return ApiError(504, "llm_timeout", "The language model did not answer in time.")
    if isinstance(exc, LLMUnavailable):
        return ApiError(502, "llm_unavailable", "The language model endpoint failed.")
    return ApiError(500, "rag_error", "The retrieval system failed to answer the request.")


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    details = []
    for item in exc.errors():
        # `input` may echo secrets (a password form) or whole documents back; leave it out.
        details.append(
            {
                "loc": [str(part) for part in item.get("loc", ())],
                "msg": str(item.get("msg", "")),
                "type": str(item.get("type", "")),
            }
        )
    return details


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return error_response(
        exc.status_code, exc.error, exc.message, details=exc.details, headers=exc.headers
    )


async def _http_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    status_code = exc.status_code
    detail = exc.detail
    if isinstance(detail, str) and detail:
        message = detail
    else:
        message = (
            HTTPStatus(status_code).phrase
            if status_code in HTTPStatus._value2member_map_
            else "Error"
        )
    return error_response(status_code, code_for_status(status_code), message, headers=exc.headers)


async def _validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return error_response(
        422,
        "validation_error",
        "The request is not valid; see details for each field.",
        details=_validation_details(exc),
    )


async def _rag_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    api_error = map_rag_error(exc)
    if api_error.status_code >= 500:
        log.warning("rag_error", error_type=type(exc).__name__, error=str(exc))
    return await _api_error(_, api_error)


async def _redis_error(_: Request, exc: Exception) -> JSONResponse:
    # Redis holds shared state (runtime webhooks, limits, cache); while it is away, the
    # operations that need it are temporarily unavailable, which is not an internal error.
    log.warning("redis_unavailable", error_type=type(exc).__name__, error=str(exc))
    return error_response(
        503,
        "redis_unavailable",
        "Shared state (Redis) could not be reached; try again shortly.",
        headers={"Retry-After": "5"},
    )


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled_exception", error_type=type(exc).__name__, exc_info=exc)
    return error_response(500, "internal_error", "An internal error occurred.")


def install_error_handlers(app: FastAPI) -> None:
    """Route every error the app can raise through the envelope."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(RagError, _rag_error)
    app.add_exception_handler(RedisError, _redis_error)
    app.add_exception_handler(Exception, _unexpected)
