"""The index server's HTTP surface: writes, deletes, searches and the consistency read.

Every route but the probes needs `Authorization: Bearer <INDEX_AUTH_TOKEN>` (compared in
constant time). Bodies are bounded in bytes before they are read and in items after; every
refusal is the error body of `ragkube_contract.error_body`, and no index internals or request
content appear in it. Index work runs in the thread pool: searches proceed while a write
commits, since only writes take the index's write lock.
"""

from __future__ import annotations

import hmac
import json
import re
import threading
import uuid
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from rag_core.documents import is_storable_metadata_value
from rag_core.errors import InvalidQuery, LimitExceeded
from rag_core.filters import validate_filters
from rag_core.tantivy_lexical_index import TantivyLexicalIndex
from ragkube_contract import index_server
from ragkube_contract.error_body import error_body
from ragkube_index.settings import IndexSettings

Model = TypeVar("Model", bound=BaseModel)
ChunkId = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class ChunkIn(_Strict):
    id: ChunkId
    text: str = Field(max_length=10_000_000)
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=256)


class UpsertBody(_Strict):
    chunks: list[ChunkIn] = Field(max_length=index_server.MAX_CHUNKS_PER_WRITE)


class DeleteBody(_Strict):
    document_id: ChunkId
    from_position: int = Field(default=0, ge=0)


class DeleteChunksBody(_Strict):
    ids: list[ChunkId] = Field(max_length=index_server.MAX_CHUNKS_PER_WRITE)


class SearchBody(_Strict):
    query: str = Field(max_length=100_000)
    k: int = Field(ge=1, le=index_server.MAX_SEARCH_RESULTS)
    filters: dict[str, Any] | None = None


class IdentityBody(_Strict):
    #: A flat record of scalars (rag_core.index_identity.IndexIdentity), bounded.
    identity: dict[str, str | int | float | bool] = Field(max_length=32)


@dataclass
class _Slot:
    index: TantivyLexicalIndex
    users: int = 0


class Indexes:
    """The open indexes of the server, one per collection, opened on first use.

    At most INDEX_MAX_COLLECTIONS stay open (each holds a writer and its threads); opening
    another closes the least recently used one that no request is using.
    """

    def __init__(self, settings: IndexSettings) -> None:
        self._settings = settings
        self._open: OrderedDict[str, _Slot] = OrderedDict()
        self._lock = threading.Lock()

    def acquire(self, collection: str) -> _Slot:
        """The slot of `collection`, held until `release` (blocking: may open an index)."""
        if not _COLLECTION.fullmatch(collection):
            raise _Refused(404, "not_found", "There is no such collection.")
        with self._lock:
            slot = self._open.get(collection)
            if slot is None:
                self._close_idle(keep=self._settings.index_max_collections - 1)
                if len(self._open) >= self._settings.index_max_collections:
                    raise _Refused(
                        503,
                        "busy",
                        "Every open collection is in use (INDEX_MAX_COLLECTIONS); retry shortly.",
                    )
                slot = _Slot(TantivyLexicalIndex(self._settings.index_data_dir / collection))
                self._open[collection] = slot
            self._open.move_to_end(collection)
            slot.users += 1
            return slot

    def release(self, slot: _Slot) -> None:
        """Let the slot's index be closed again when collections must make room."""
        with self._lock:
            slot.users -= 1

    def _close_idle(self, keep: int) -> None:
        for name in list(self._open):
            if len(self._open) <= keep:
                return
            if self._open[name].users == 0:
                self._open.pop(name).index.close()

    def close(self) -> None:
        """Finish merges and release every writer."""
        with self._lock:
            for slot in self._open.values():
                slot.index.close()
            self._open.clear()


_COLLECTION = re.compile(index_server.COLLECTION_PATTERN)


class _Refused(Exception):
    def __init__(self, status: int, error: str, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.status, self.error, self.message, self.details = status, error, message, details


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given if given.isascii() and 0 < len(given) <= 128 else uuid.uuid4().hex


def _refusal(request: Request, refused: _Refused) -> JSONResponse:
    body = error_body(
        refused.error, refused.message, request_id=_request_id(request), details=refused.details
    )
    return JSONResponse(body, status_code=refused.status)


async def _body(request: Request, model: type[Model]) -> Model:
    declared = request.headers.get("content-length")
    if declared is not None and (
        not declared.isdigit() or int(declared) > index_server.MAX_BODY_BYTES
    ):
        raise _Refused(413, "payload_too_large", "The request body is larger than allowed.")
    received = bytearray()
    async for part in request.stream():
        received += part
        if len(received) > index_server.MAX_BODY_BYTES:
            raise _Refused(413, "payload_too_large", "The request body is larger than allowed.")
    try:
        document = json.loads(received)
    except (ValueError, RecursionError):
        raise _Refused(400, "invalid_json", "The request body is not JSON.") from None
    try:
        return model.model_validate(document)
    except ValidationError as error:
        where = [
            {"loc": list(item["loc"]), "type": item["type"]}
            for item in error.errors(include_url=False, include_input=False)
        ][:20]
        raise _Refused(422, "validation_error", "The request body is not valid.", where) from None


def create_app(settings: IndexSettings) -> Starlette:
    """The index server's app over the collections under INDEX_DATA_DIR."""
    secret = settings.index_auth_token
    token = secret.get_secret_value().encode() if secret is not None else None
    indexes = Indexes(settings)

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        settings.index_data_dir.mkdir(parents=True, exist_ok=True)
        yield
        await run_in_threadpool(indexes.close)

    def authorised(request: Request) -> None:
        if token is None:
            return
        scheme, _, presented = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(presented.strip().encode(), token):
            raise _Refused(401, "unauthorized", "A valid index token is required.")

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                authorised(request)
                slot = await run_in_threadpool(indexes.acquire, request.path_params["collection"])
                try:
                    result = await handler(request, slot.index)
                finally:
                    indexes.release(slot)
            except _Refused as refused:
                return _refusal(request, refused)
            return JSONResponse(result)

        return endpoint

    async def upsert(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        body = await _body(request, UpsertBody)
        for number, chunk in enumerate(body.chunks):
            bad = [k for k, v in chunk.metadata.items() if not is_storable_metadata_value(v)]
            if bad:
                raise _Refused(
                    422,
                    "validation_error",
                    "A chunk's metadata holds a value that is not a string, number or boolean.",
                    [{"loc": ["chunks", number, "metadata", bad[0]], "type": "metadata_value"}],
                )
        await run_in_threadpool(lexical.upsert, [(c.id, c.text, c.metadata) for c in body.chunks])
        return {"upserted": len(body.chunks)}

    async def delete(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        body = await _body(request, DeleteBody)
        await run_in_threadpool(lexical.delete_document, body.document_id, body.from_position)
        return {"deleted": True}

    async def delete_chunks(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        body = await _body(request, DeleteChunksBody)
        await run_in_threadpool(lexical.delete_chunks, body.ids)
        return {"deleted": len(body.ids)}

    async def search(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        body = await _body(request, SearchBody)
        try:
            validate_filters(body.filters)
        except (InvalidQuery, LimitExceeded) as error:
            raise _Refused(400, "invalid_query", str(error)) from None
        found = await run_in_threadpool(lexical.search, body.query, body.k, body.filters)
        return {
            "hits": [{"id": hit.id, "score": hit.score} for hit in found.hits],
            "keyword_query": found.keyword_query,
            "all_terms_matches": found.all_terms_matches,
        }

    async def document_chunks(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        document_id = request.path_params["document_id"]
        return {"chunk_ids": sorted(await run_in_threadpool(lexical.chunk_ids_of, document_id))}

    async def stats(_: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        return {"chunks": await run_in_threadpool(len, lexical)}

    async def identity(request: Request, lexical: TantivyLexicalIndex) -> dict[str, Any]:
        if request.method == "PUT":
            body = await _body(request, IdentityBody)
            await run_in_threadpool(lexical.record_identity, body.identity)
        return {"identity": await run_in_threadpool(lexical.recorded_identity)}

    async def health(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(_: Request) -> Response:
        writable = await run_in_threadpool(_writable, settings)
        if not writable:
            return JSONResponse({"status": "data directory not writable"}, status_code=503)
        return JSONResponse({"status": "ready"})

    return Starlette(
        routes=[
            Route(index_server.INDEX_LIVENESS_PATH, health, methods=["GET"]),
            Route(index_server.INDEX_READINESS_PATH, ready, methods=["GET"]),
            Route(index_server.CHUNKS_PATH, guarded(upsert), methods=["POST"]),
            Route(index_server.DELETE_PATH, guarded(delete), methods=["POST"]),
            Route(index_server.DELETE_CHUNKS_PATH, guarded(delete_chunks), methods=["POST"]),
            Route(index_server.SEARCH_PATH, guarded(search), methods=["POST"]),
            Route(index_server.DOCUMENT_CHUNKS_PATH, guarded(document_chunks), methods=["GET"]),
            Route(index_server.STATS_PATH, guarded(stats), methods=["GET"]),
            Route(index_server.IDENTITY_PATH, guarded(identity), methods=["GET", "PUT"]),
        ],
        lifespan=lifespan,
        exception_handlers={HTTPException: _http_error},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """Unknown paths and methods, in the same error body as everything else."""
    assert isinstance(exc, HTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
    return _refusal(request, _Refused(exc.status_code, code, "There is no such route."))


def _writable(settings: IndexSettings) -> bool:
    import os

    return settings.index_data_dir.is_dir() and os.access(settings.index_data_dir, os.W_OK)
