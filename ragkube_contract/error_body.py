"""The one error body every ragkube HTTP service answers with (API and index server)."""

from __future__ import annotations

import datetime as dt
from typing import Any


def error_body(error: str, message: str, *, request_id: str, details: Any = None) -> dict[str, Any]:
    """`{error, message, request_id, timestamp, details?}`: `error` a stable code for programs,
    `message` a sentence for people; neither carries the request's content."""
    body: dict[str, Any] = {
        "error": error,
        "message": message,
        "request_id": request_id,
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
    }
    if details is not None:
        body["details"] = details
    return body
