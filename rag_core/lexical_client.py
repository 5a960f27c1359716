"""The lexical index as API pods see it: a client of the index server in the storage tier.

It offers what `TantivyLexicalIndex` offers, over HTTP with the deployment's index token, so the
rest of rag_core does not care where the index lives. A connection failure, a timeout or a
server error is `LexicalIndexUnavailable`; a refusal (4xx) is a bug on this side and raises
`RagError` with the server's error code, never its body.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

import httpx

from rag_core.errors import LexicalIndexUnavailable, RagError
from rag_core.lexical_index import Analyzer, LexicalHit, LexicalResult
from ragkube_contract import index_server

#: Connecting must be quick (the server is beside Chroma); a large write may take a while.
CONNECT_TIMEOUT_SECONDS = 2.0
READ_TIMEOUT_SECONDS = 30.0


class RemoteLexicalIndex:
    """The `TantivyLexicalIndex` of `collection`, served by `ragkube_index` at `base_url`."""

    def __init__(self, base_url: str, token: str | None, collection: str) -> None:
        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(READ_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS),
            trust_env=False,
        )
        self._analyzer = Analyzer()
        self._collection = quote(collection, safe="")

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        try:
            response = self._client.request(method, path, json=body)
        except httpx.HTTPError as error:
            raise LexicalIndexUnavailable(
                f"The lexical index server could not be reached ({type(error).__name__})."
            ) from None
        if response.status_code >= 500:
            raise LexicalIndexUnavailable(
                f"The lexical index server failed with HTTP {response.status_code}."
            )
        if response.status_code >= 400:
            code = "unknown"
            with contextlib.suppress(ValueError, AttributeError):
                code = str(response.json().get("error", code))
            raise RagError(f"The lexical index server refused a request: {code}.")
        return response.json()

    def _path(self, template: str, **values: str) -> str:
        return template.format(collection=self._collection, **values)

    def analyze(self, text: str) -> list[str]:
        """The index terms of a text (the server analyses the same way)."""
        return self._analyzer.terms(text)

    def upsert(self, chunks: Iterable[tuple[str, str, dict[str, Any]]]) -> None:
        """Add or overwrite chunks, in writes the server accepts."""
        batch: list[dict[str, Any]] = []
        for chunk_id, text, metadata in chunks:
            batch.append({"id": chunk_id, "text": text, "metadata": metadata})
            if len(batch) == index_server.MAX_CHUNKS_PER_WRITE:
                self._call("POST", self._path(index_server.CHUNKS_PATH), {"chunks": batch})
                batch = []
        if batch:
            self._call("POST", self._path(index_server.CHUNKS_PATH), {"chunks": batch})

    def delete_document(self, document_id: str, from_position: int = 0) -> None:
        """Drop a document's chunks at or after `from_position`."""
        body = {"document_id": document_id, "from_position": from_position}
        self._call("POST", self._path(index_server.DELETE_PATH), body)

    def delete_chunks(self, chunk_ids: Iterable[str]) -> None:
        """Drop these chunks, in writes the server accepts."""
        ids = list(chunk_ids)
        for start in range(0, len(ids), index_server.MAX_CHUNKS_PER_WRITE):
            batch = ids[start : start + index_server.MAX_CHUNKS_PER_WRITE]
            self._call("POST", self._path(index_server.DELETE_CHUNKS_PATH), {"ids": batch})

    def chunk_ids_of(self, document_id: str) -> set[str]:
        """Every chunk id the server holds for a document."""
        path = self._path(
            index_server.DOCUMENT_CHUNKS_PATH, document_id=quote(document_id, safe="")
        )
        return set(self._call("GET", path)["chunk_ids"])

    def search(self, query: str, k: int, filters: Mapping[str, Any] | None = None) -> LexicalResult:
        """Up to `k` chunks with a positive BM25 score for `query`, best first."""
        body = {"query": query, "k": min(k, index_server.MAX_SEARCH_RESULTS), "filters": filters}
        found = self._call("POST", self._path(index_server.SEARCH_PATH), body)
        hits = [LexicalHit(str(hit["id"]), float(hit["score"])) for hit in found["hits"]]
        return LexicalResult(hits, bool(found["keyword_query"]), int(found["all_terms_matches"]))

    def recorded_identity(self) -> dict[str, Any] | None:
        """The identity in the collection's manifest on the server, or None."""
        recorded = self._call("GET", self._path(index_server.IDENTITY_PATH))["identity"]
        return dict(recorded) if isinstance(recorded, dict) else None

    def record_identity(self, identity: Mapping[str, Any]) -> None:
        """Record what builds the collection's index in its manifest on the server."""
        self._call("PUT", self._path(index_server.IDENTITY_PATH), {"identity": dict(identity)})

    def __len__(self) -> int:
        return int(self._call("GET", self._path(index_server.STATS_PATH))["chunks"])

    def close(self) -> None:
        """Close the connection pool."""
        self._client.close()
