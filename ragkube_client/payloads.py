"""Request bodies and headers, built the same way for the sync and the async client."""

from __future__ import annotations

import json
import mimetypes
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ragkube_client.models import DocumentIn, MetadataValue, RetrievalMode

USER_AGENT = "ragkube-python"
#: The API accepts at most this many files in one multipart request.
MAX_FILES_PER_REQUEST = 50


def credential(value: str | None, what: str) -> str | None:
    """`value` without surrounding whitespace; ValueError if a header cannot carry it.

    A key read from a file or a Secret often ends in a newline. Left in, httpx refuses the
    header with an error that quotes it (putting the secret into logs), or, for non-ASCII
    text, fails with a bare UnicodeEncodeError. The message never repeats the value.
    """
    if value is None:
        return None
    cleaned = value.strip()
    if not cleaned:
        return None
    if not all("!" <= char <= "~" for char in cleaned):
        raise ValueError(
            f"the {what} contains characters an HTTP header cannot carry "
            "(spaces, control or non-ASCII characters); check how it was copied"
        )
    return cleaned


def auth_headers(api_key: str | None, token: str | None) -> dict[str, str]:
    """`X-API-Key` for an API key, `Authorization: Bearer` for a token (the key wins)."""
    api_key = credential(api_key, "API key")
    if api_key:
        return {"X-API-Key": api_key}
    token = credential(token, "token")
    if token:
        return {"Authorization": f"Bearer {token}"}
    return {}


def upload_name(path: Path) -> str:
    """The file name sent with an upload, always valid UTF-8.

    A name with bytes that are not UTF-8 (common on old archives) reaches Python with
    surrogate escapes, which httpx cannot encode; the bad bytes are sent as `\\xNN`.
    """
    return os.fsencode(path.name).decode("utf-8", "backslashreplace")


def query_body(
    query: str,
    *,
    max_results: int | None = None,
    threshold: float | None = None,
    use_guardrails: bool = True,
    conversation_id: str | None = None,
    filters: Mapping[str, Any] | None = None,
    mode: RetrievalMode | None = None,
) -> dict[str, Any]:
    """The JSON body of POST /query and /query/stream (unset options left to the server)."""
    body: dict[str, Any] = {"query": query, "use_guardrails": use_guardrails}
    if max_results is not None:
        body["max_results"] = max_results
    if threshold is not None:
        body["threshold"] = threshold
    if conversation_id is not None:
        body["conversation_id"] = conversation_id
    if filters is not None:
        body["filters"] = dict(filters)
    if mode is not None:
        body["mode"] = mode
    return body


def documents_body(documents: Iterable[DocumentIn | Mapping[str, Any]]) -> dict[str, Any]:
    """The JSON body of POST /documents."""
    items = [
        d.model_dump(exclude_none=True)
        if isinstance(d, DocumentIn)
        else DocumentIn.model_validate(d).model_dump(exclude_none=True)
        for d in documents
    ]
    return {"documents": items}


def files_form(
    paths: Sequence[str | Path], metadata: Mapping[str, MetadataValue] | None
) -> tuple[list[tuple[str, tuple[str, bytes, str]]], dict[str, str]]:
    """The multipart files and fields of an upload (contents read now, so retries resend)."""
    if not paths:
        raise ValueError("give at least one file to upload")
    if len(paths) > MAX_FILES_PER_REQUEST:
        raise ValueError(f"upload at most {MAX_FILES_PER_REQUEST} files per request")
    files = []
    for item in paths:
        path = Path(item)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        files.append(("files", (upload_name(path), path.read_bytes(), content_type)))
    data = {"metadata": json.dumps(dict(metadata))} if metadata else {}
    return files, data


def login_form(username: str, password: str, scopes: Sequence[str] | None) -> dict[str, str]:
    """The OAuth2 password-grant form of POST /auth/login."""
    form = {"grant_type": "password", "username": username, "password": password}
    if scopes:
        form["scope"] = " ".join(scopes)
    return form


def path_segment(value: str) -> str:
    """`value` quoted as one URL path segment (ids may hold any character but `/`)."""
    if not value:
        raise ValueError("an id must not be empty")
    return quote(value, safe="")


def webhook_body(
    url: str, events: Sequence[str], secret: str | None, description: str
) -> dict[str, Any]:
    """The JSON body of `POST /webhooks`; without `secret` the server generates one."""
    body: dict[str, Any] = {"url": url, "events": list(events), "description": description}
    if secret is not None:
        body["secret"] = secret
    return body
