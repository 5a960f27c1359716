"""`AsyncRagkubeClient`: the asyncio client (the same calls as `RagkubeClient`, awaited)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from ragkube_client import payloads
from ragkube_client.errors import error_from_response
from ragkube_client.models import (
    DocumentDetail,
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
from ragkube_client.responses import (
    Reply,
    aread_body,
    check_base_url,
    check_event_stream,
    parse,
    parse_list,
    safe_url,
    transport_error,
)
from ragkube_client.retry import RetryPolicy, parse_retry_after
from ragkube_client.sse import EventStreamReader


class AsyncRagkubeClient:
    """An asyncio ragkube API client.

    Authenticate with `api_key=` (sent as `X-API-Key`), `token=` (a JWT, sent as a bearer
    token), or call `login(username, password)` to obtain and use a token. 429 and 503
    answers are retried per `retry`; every other failure raises a `RagkubeError` subclass,
    including answers that are not what the API promises (`InvalidResponseError`).

    `timeout` (seconds) bounds connecting, each read, and reading the whole body of a call
    that does not stream; a stream may run longer but fails when no data arrives for `timeout`.
    A malformed `base_url` or credential raises ValueError here, before any call.
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
        if not timeout > 0:
            raise ValueError("timeout must be a positive number of seconds")
        payloads.credential(api_key, "API key")
        payloads.credential(token, "token")
        self.api_key = api_key
        self.token = token
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._http = httpx.AsyncClient(
            base_url=check_base_url(base_url),
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

    async def _request(self, method: str, path: str, *, retry: bool = True, **kwargs: Any) -> Reply:
        attempt = 0
        while True:
            headers = payloads.auth_headers(self.api_key, self.token)
            reply = await self._send(method, path, headers, kwargs)
            if 200 <= reply.status_code < 300:
                return reply
            delay = self.retry.delay(attempt, reply.status_code, reply.headers) if retry else None
            if delay is None:
                raise error_from_response(
                    reply.status_code,
                    reply.headers,
                    reply.content,
                    parse_retry_after(reply.headers.get("retry-after")),
                )
            await asyncio.sleep(delay)
            attempt += 1

    async def _send(
        self, method: str, path: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> Reply:
        """One attempt: the whole answer, its body read within the size limit and the timeout."""
        try:
            request = self._http.build_request(method, path, headers=headers, **kwargs)
            response = await self._http.send(request, stream=True)
            try:
                content = await aread_body(response, timeout=self.timeout, url=self.base_url)
                return Reply(response.status_code, response.headers, content)
            finally:
                await response.aclose()
        except httpx.RequestError as exc:
            raise transport_error(exc, self.base_url, self.timeout) from exc

    # --- authentication -------------------------------------------------------------------

    async def login(
        self, username: str, password: str, scopes: Sequence[str] | None = None
    ) -> Token:
        """Exchange a username and password for a token, and use it from now on."""
        response = await self._request(
            "POST", "/auth/login", data=payloads.login_form(username, password, scopes)
        )
        token = parse(Token, response)
        self.token, self.api_key = token.access_token, None
        return token

    # --- querying ----------------------------------------------------------------------------

    async def query(
        self,
        query: str,
        *,
        max_results: int | None = None,
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
        return parse(QueryResponse, response)

    async def query_stream(
        self,
        query: str,
        *,
        max_results: int | None = None,
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
                        error_body = await aread_body(
                            response, timeout=self.timeout, url=self.base_url
                        )
                        delay = self.retry.delay(attempt, response.status_code, response.headers)
                        if delay is None:
                            raise error_from_response(
                                response.status_code,
                                response.headers,
                                error_body,
                                parse_retry_after(response.headers.get("retry-after")),
                            )
                    else:
                        check_event_stream(response.headers, self.base_url)
                        reader = EventStreamReader(safe_url(self.base_url))
                        async for line in response.aiter_lines():
                            event = reader.feed(line)
                            if event is not None:
                                yield event
                        reader.finish()
                        return
            except httpx.RequestError as exc:
                raise transport_error(exc, self.base_url, self.timeout) from exc
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
        return parse(IngestResponse, response)

    async def ingest_files(
        self,
        paths: Sequence[str | Path],
        metadata: Mapping[str, MetadataValue] | None = None,
    ) -> IngestResponse:
        """Upload files (text, Markdown, HTML, PDF, JSON); per-file results."""
        files, data = payloads.files_form(paths, metadata)
        response = await self._request("POST", "/documents", files=files, data=data)
        return parse(IngestResponse, response)

    async def list_documents(self, *, offset: int = 0, limit: int = 50) -> DocumentPage:
        """One page of stored documents."""
        response = await self._request(
            "GET", "/documents", params={"offset": offset, "limit": limit}
        )
        return parse(DocumentPage, response)

    async def get_document(self, document_id: str) -> DocumentDetail:
        """One stored document with its original; `NotFoundError` when there is none."""
        response = await self._request("GET", f"/documents/{payloads.path_segment(document_id)}")
        return parse(DocumentDetail, response)

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
        return parse(WebhookCreated, response)

    async def list_webhooks(self) -> list[Webhook]:
        """Every webhook of the deployment (runtime and operator-managed)."""
        response = await self._request("GET", "/webhooks")
        return parse_list(Webhook, response)

    async def delete_webhook(self, webhook_id: str) -> None:
        """Remove a runtime webhook."""
        await self._request("DELETE", f"/webhooks/{payloads.path_segment(webhook_id)}")

    # --- service -------------------------------------------------------------------------

    async def health(self) -> Health:
        """Liveness (no retries)."""
        return parse(Health, await self._request("GET", "/health", retry=False))

    async def ready(self) -> Readiness:
        """Readiness; `ServerError` (with `details`) when a check fails. No retries."""
        return parse(Readiness, await self._request("GET", "/ready", retry=False))

    async def stats(self) -> Stats:
        """Collection statistics."""
        return parse(Stats, await self._request("GET", "/stats"))
