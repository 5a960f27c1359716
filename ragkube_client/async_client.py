"""`AsyncRagkubeClient`: the asyncio client (the same calls as `RagkubeClient`, awaited)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ragkube_client import payloads
from ragkube_client.errors import ApiConnectionError, error_from_response
from ragkube_client.models import (
    Document,
    DocumentIn,
    DocumentPage,
    Health,
    IngestResponse,
    MetadataValue,
    QueryResponse,
    Readiness,
    RetrievalMode,
    Stats,
    StreamEvent,
    Token,
    Webhook,
    WebhookCreated,
)
from ragkube_client.retry import RetryPolicy, parse_retry_after
from ragkube_client.sse import SSEDecoder, to_stream_event


class AsyncRagkubeClient:
    """An asyncio ragkube API client.

    Authenticate with `api_key=` (sent as `X-API-Key`), `token=` (a JWT, sent as a bearer
    token), or call `login(username, password)` to obtain and use a token. 429 and 503
    answers are retried per `retry`; every other failure raises a `RagkubeError` subclass.
    Use it as an async context manager, or await `close()`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float = 60.0,
        retry: RetryPolicy | None = None,
        headers: Mapping[str, str] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.api_key = api_key
        self.token = token
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            headers={"User-Agent": payloads.USER_AGENT, **(headers or {})},
            transport=transport,
        )

    # --- plumbing ------------------------------------------------------------------------

    async def __aenter__(self) -> AsyncRagkubeClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        """The server's base URL."""
        return str(self._http.base_url)

    async def _request(
        self, method: str, path: str, *, retry: bool = True, **kwargs: Any
    ) -> httpx.Response:
        attempt = 0
        while True:
            headers = payloads.auth_headers(self.api_key, self.token)
            try:
                response = await self._http.request(method, path, headers=headers, **kwargs)
            except httpx.TransportError as exc:
                raise ApiConnectionError(f"cannot reach {self.base_url}: {exc}") from exc
            if response.is_success:
                return response
            delay = (
                self.retry.delay(attempt, response.status_code, response.headers) if retry else None
            )
            if delay is None:
                raise error_from_response(
                    response.status_code,
                    response.headers,
                    response.content,
                    parse_retry_after(response.headers.get("retry-after")),
                )
            await asyncio.sleep(delay)
            attempt += 1

    # --- authentication -------------------------------------------------------------------

    async def login(
        self, username: str, password: str, scopes: Sequence[str] | None = None
    ) -> Token:
        """Exchange a username and password for a token, and use it from now on."""
        response = await self._request(
            "POST", "/auth/login", data=payloads.login_form(username, password, scopes)
        )
        token = Token.model_validate_json(response.content)
        self.token, self.api_key = token.access_token, None
        return token

    # --- querying ----------------------------------------------------------------------------

    async def query(
        self,
        query: str,
        *,
        max_results: int = 5,
        threshold: float | None = None,
        use_guardrails: bool = True,
        conversation_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        mode: RetrievalMode | None = None,
    ) -> QueryResponse:
        """Ask a question; the answer with its sources."""
        body = payloads.query_body(
            query,
            max_results=max_results,
            threshold=threshold,
            use_guardrails=use_guardrails,
            conversation_id=conversation_id,
            filters=filters,
            mode=mode,
        )
        response = await self._request("POST", "/query", json=body)
        return QueryResponse.model_validate_json(response.content)

    async def query_stream(
        self,
        query: str,
        *,
        max_results: int = 5,
        threshold: float | None = None,
        use_guardrails: bool = True,
        conversation_id: str | None = None,
        filters: Mapping[str, Any] | None = None,
        mode: RetrievalMode | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Ask a question and receive the answer as it is written.

        Yields a `SourcesEvent`, then `TokenEvent`s, then one `FinalEvent`. A failure before
        the stream starts is retried like any call; one after it raises the typed error.
        """
        body = payloads.query_body(
            query,
            max_results=max_results,
            threshold=threshold,
            use_guardrails=use_guardrails,
            conversation_id=conversation_id,
            filters=filters,
            mode=mode,
        )
        attempt = 0
        while True:
            headers = {
                **payloads.auth_headers(self.api_key, self.token),
                "Accept": "text/event-stream",
            }
            try:
                async with self._http.stream(
                    "POST", "/query/stream", json=body, headers=headers
                ) as response:
                    if not response.is_success:
                        content = await response.aread()
                        delay = self.retry.delay(attempt, response.status_code, response.headers)
                        if delay is None:
                            raise error_from_response(
                                response.status_code,
                                response.headers,
                                content,
                                parse_retry_after(response.headers.get("retry-after")),
                            )
                    else:
                        decoder = SSEDecoder()
                        async for line in response.aiter_lines():
                            raw = decoder.feed(line)
                            if raw is None:
                                continue
                            event = to_stream_event(raw)
                            if event is not None:
                                yield event
                        return
            except httpx.TransportError as exc:
                raise ApiConnectionError(f"cannot reach {self.base_url}: {exc}") from exc
            await asyncio.sleep(delay)
            attempt += 1

    async def answer(self, query: str, **options: Any) -> str:
        """Stream a question's answer and return its full text (a convenience)."""
        parts: list[str] = []
        async for event in self.query_stream(query, **options):
            if event.type == "token":
                parts.append(event.text)
        return "".join(parts)

    # --- documents -----------------------------------------------------------------------

    async def ingest(self, documents: Iterable[DocumentIn | Mapping[str, Any]]) -> IngestResponse:
        """Add documents given as text; per-document results (some may have failed)."""
        response = await self._request(
            "POST", "/documents", json=payloads.documents_body(documents)
        )
        return IngestResponse.model_validate_json(response.content)

    async def ingest_files(
        self,
        paths: Sequence[str | Path],
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> IngestResponse:
        """Upload files (text, Markdown, HTML, PDF, JSON); per-file results."""
        files, data = payloads.files_form(paths, metadata)
        response = await self._request("POST", "/documents", files=files, data=data)
        return IngestResponse.model_validate_json(response.content)

    async def list_documents(self, *, offset: int = 0, limit: int = 50) -> DocumentPage:
        """One page of stored documents."""
        response = await self._request(
            "GET", "/documents", params={"offset": offset, "limit": limit}
        )
        return DocumentPage.model_validate_json(response.content)

    async def get_document(self, document_id: str) -> Document:
        """One stored document; `NotFoundError` when there is none."""
        response = await self._request("GET", f"/documents/{payloads.path_segment(document_id)}")
        return Document.model_validate_json(response.content)

    async def delete_document(self, document_id: str) -> None:
        """Remove a document and its chunks; `NotFoundError` when there is none."""
        await self._request("DELETE", f"/documents/{payloads.path_segment(document_id)}")

    # --- webhooks ------------------------------------------------------------------------

    async def create_webhook(
        self,
        url: str,
        events: Sequence[str],
        *,
        secret: str | None = None,
        description: str = "",
    ) -> WebhookCreated:
        """Subscribe `url` to `events`; the result holds the signing secret (shown once)."""
        body = payloads.webhook_body(url, events, secret, description)
        response = await self._request("POST", "/webhooks", json=body)
        return WebhookCreated.model_validate_json(response.content)

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook of the deployment (runtime and operator-managed)."""
        response = await self._request("GET", "/webhooks")
        return [Webhook.model_validate(item) for item in response.json()]

    async def delete_webhook(self, webhook_id: str) -> None:
        """Remove a runtime webhook."""
        await self._request("DELETE", f"/webhooks/{payloads.path_segment(webhook_id)}")

    # --- service -------------------------------------------------------------------------

    async def health(self) -> Health:
        """Liveness (no retries)."""
        return Health.model_validate_json(
            (await self._request("GET", "/health", retry=False)).content
        )

    async def ready(self) -> Readiness:
        """Readiness; `ServerError` (with `details`) when a check fails. No retries."""
        return Readiness.model_validate_json(
            (await self._request("GET", "/ready", retry=False)).content
        )

    async def stats(self) -> Stats:
        """Collection statistics."""
        return Stats.model_validate_json((await self._request("GET", "/stats")).content)
