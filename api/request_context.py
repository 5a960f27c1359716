"""The request id (X-Request-ID) and the caller's identity, visible to everything a request runs.

An incoming `X-Request-ID` is kept when it looks like an id (1-128 characters from a safe
alphabet) so a gateway's id follows the request through; anything else is replaced by a
fresh one. The id is echoed on the response and appears in every log line and error body.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_ID = re.compile(r"^[A-Za-z0-9._:\-]{1,128}$")

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_user: ContextVar[str | None] = ContextVar("user", default=None)


def accept_or_generate(incoming: str | None) -> str:
    """Keep a well-formed incoming request id; otherwise make a new one."""
    if incoming is not None and _VALID_ID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def current_request_id() -> str | None:
    """The id of the request being served, if any."""
    return _request_id.get()


def set_request_id(value: str | None) -> None:
    """Bind the request id for the rest of this request."""
    _request_id.set(value)


def current_user() -> str | None:
    """The authenticated caller (`user:NAME` or `key:NAME`), once authentication ran."""
    return _user.get()


def set_user(value: str | None) -> None:
    """Record who is calling, for the request log line."""
    _user.set(value)
