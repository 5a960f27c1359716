"""Chroma behind one interface, embedded (`PersistentClient`) or client/server (`HttpClient`).

One collection per deployment, cosine space, embeddings always supplied by rag_core (Chroma's
own embedding function is never loaded). The collection's metadata carries an index-version
marker that changes on every write, so replicas sharing a Chroma server notice each other's
writes. Token auth: with `chroma_auth_token` set the client sends `Authorization: Bearer
<token>` on every request. The `chroma run` server of chromadb 1.x does not check tokens
itself (its Python-era auth providers are gone), so the token is enforced by whatever fronts
Chroma (an auth proxy or Chroma Cloud); in the cluster a NetworkPolicy admits only API pods.
"""

from __future__ import annotations

import functools
import json
import logging
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx
import numpy as np
import numpy.typing as npt

from rag_core.documents import Chunk
from rag_core.errors import DocumentRejected, InvalidQuery, RagError, VectorStoreUnavailable
from rag_core.settings import RagSettings

INDEX_VERSION_KEY = "ragkube_index_version"
#: The collection metadata key holding what built the index (rag_core.index_identity), as JSON.
INDEX_IDENTITY_KEY = "ragkube_index_identity"
_T = TypeVar("_T")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as read back from Chroma."""

    id: str
    text: str
    metadata: dict[str, Any]


@dataclass(frozen=True)
class DenseHit:
    """A nearest-neighbour hit; `similarity` is the cosine similarity (1 - cosine distance)."""

    id: str
    text: str
    metadata: dict[str, Any]
    similarity: float


def _bound_request_time(client: Any, seconds: float) -> None:
    """Give the HTTP client's requests a timeout (chromadb 1.x builds its session without one).

    chromadb offers no setting for it, so the timeout goes on the client's httpx session;
    a chromadb without that session fails loudly here rather than hang on a frozen server.
    """
    session = getattr(getattr(client, "_server", None), "_session", None)
    if not isinstance(session, httpx.Client):
        raise TypeError(
            "chromadb's HTTP client no longer exposes its httpx session, so no request "
            "timeout can be set on it; pin a chromadb version ragkube supports."
        )
    session.timeout = httpx.Timeout(seconds)


def _refused_chunks(documents: str, reason: str) -> DocumentRejected:
    # Chroma's own words name its internals and echo the input; they stay in the log.
    logger.warning("Chroma refused the chunks of %s: %s", documents[:200], reason[:500])
    return DocumentRejected(
        documents, "the vector store refused its chunks (metadata or text it cannot store)"
    )


def _refused_query(reason: str) -> InvalidQuery:
    logger.warning("Chroma refused a query: %s", reason[:500])
    return InvalidQuery(
        "The vector store refused the query: its filters or its vector do not fit the collection."
    )


def chroma_where(filters: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Chroma `where` clause for API filters: equality and `$in`, joined with AND."""
    if not filters:
        return None
    clauses: list[dict[str, Any]] = []
    for field, condition in filters.items():
        if isinstance(condition, Mapping):
            values = condition.get("$in")
            clauses.append({field: {"$in": list(values or [])}})
        else:
            clauses.append({field: condition})
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


class ChromaStore:
    """The deployment's chunk collection. Every method blocks; call it off the event loop."""

    def __init__(self, settings: RagSettings) -> None:
        self._settings = settings
        self._client: Any = None
        self._collection: Any = None
        self._max_batch = 5000

    @property
    def mode(self) -> str:
        return "http" if self._settings.chroma_host else "embedded"

    def open(self) -> None:
        """Connect (or open the local database) and get or create the collection."""
        import chromadb
        from chromadb.config import Settings

        chroma_settings = Settings(anonymized_telemetry=False, allow_reset=False)
        settings = self._settings

        def connect() -> Any:
            if settings.chroma_host:
                headers = {}
                if settings.chroma_auth_token:
                    headers["Authorization"] = f"Bearer {settings.chroma_auth_token}"
                # The client's constructor already talks to the server, without a timeout:
                # a bounded probe first, so a frozen server fails `open()` instead of hanging.
                self._probe(headers)
                client = chromadb.HttpClient(
                    host=settings.chroma_host,
                    port=settings.chroma_port,
                    ssl=settings.chroma_ssl,
                    headers=headers,
                    settings=chroma_settings,
                )
                _bound_request_time(client, settings.chroma_timeout_seconds)
                return client
            settings.chroma_path.mkdir(parents=True, exist_ok=True)
            return chromadb.PersistentClient(
                path=str(settings.chroma_path), settings=chroma_settings
            )

        # chromadb reports a server it cannot reach while connecting as a ValueError.
        self._client = self._call(connect, self._unavailable)
        self._collection = self._call(
            lambda: self._client.get_or_create_collection(
                settings.collection_name,
                configuration={"hnsw": {"space": "cosine"}},
                metadata={INDEX_VERSION_KEY: uuid.uuid4().hex},
                embedding_function=None,
            )
        )
        self._max_batch = int(self._call(self._client.get_max_batch_size))

    def companion_collection(self, name: str) -> Any:
        """Another collection on this store's Chroma, created when missing, for what lives
        beside the chunks (the originals of documents); opened after `open()`."""
        if self._client is None:
            raise VectorStoreUnavailable("The vector store is not open; call open() first.")
        client = self._client
        return self._call(lambda: client.get_or_create_collection(name, embedding_function=None))

    def call(
        self, action: Callable[[], _T], refused: Callable[[str], RagError] | None = None
    ) -> _T:
        """Run a Chroma call on a companion collection with this store's error sorting:
        unreachable is `VectorStoreUnavailable`, refused input `refused(reason)`."""
        return self._call(action, refused)

    def _probe(self, headers: Mapping[str, str]) -> None:
        """One heartbeat with the request timeout; raises when the server does not answer."""
        settings = self._settings
        scheme = "https" if settings.chroma_ssl else "http"
        url = f"{scheme}://{settings.chroma_host}:{settings.chroma_port}/api/v2/heartbeat"
        httpx.get(url, headers=dict(headers), timeout=settings.chroma_timeout_seconds)

    def close(self) -> None:
        self._collection = None
        self._client = None

    def _call(
        self, action: Callable[[], _T], refused: Callable[[str], RagError] | None = None
    ) -> _T:
        """Run a Chroma call. Input Chroma refuses becomes `refused(reason)` (a plain
        `RagError` when the input was rag_core's own); only failures to reach or use the
        store are `VectorStoreUnavailable`, so bad input never reads as an outage."""
        from chromadb.errors import (
            ChromaError,
            DuplicateIDError,
            InvalidArgumentError,
            InvalidDimensionException,
            InvalidUUIDError,
        )

        try:
            return action()
        except (
            InvalidArgumentError,
            InvalidDimensionException,
            DuplicateIDError,
            InvalidUUIDError,
            ValueError,  # chromadb validates metadata, filters and ids client-side
        ) as error:
            if refused is None:
                raise RagError(f"Chroma refused a request rag_core made: {error}") from error
            raise refused(str(error)) from error
        except (ChromaError, httpx.HTTPError, OSError, RuntimeError) as error:
            raise self._unavailable(str(error)) from error

    def _unavailable(self, reason: str) -> VectorStoreUnavailable:
        where = (
            f"the Chroma server at {self._settings.chroma_host}:{self._settings.chroma_port}"
            if self._settings.chroma_host
            else f"the embedded Chroma database in {self._settings.chroma_path}"
        )
        return VectorStoreUnavailable(f"Could not use {where}: {reason}")

    @property
    def collection(self) -> Any:
        if self._collection is None:
            raise VectorStoreUnavailable("The vector store is not open; call open() first.")
        return self._collection

    def heartbeat(self) -> bool:
        """Whether Chroma answers right now."""
        try:
            self._call(lambda: self.collection.count())
        except VectorStoreUnavailable:
            return False
        return True

    def _fresh_metadata(self) -> dict[str, Any]:
        """The collection's metadata as Chroma holds it now (other replicas write it too)."""
        collection = self._call(
            lambda: self._client.get_collection(
                self._settings.collection_name, embedding_function=None
            )
        )
        return dict(collection.metadata or {})

    def index_version(self) -> str:
        """The shared index-version marker, read fresh from Chroma."""
        return str(self._fresh_metadata().get(INDEX_VERSION_KEY, ""))

    def _modify_metadata(self, **changes: str) -> None:
        # Chroma's modify() replaces the whole metadata: keep what else it holds.
        metadata = {**self._fresh_metadata(), **changes}
        self._call(lambda: self.collection.modify(metadata=metadata))

    def bump_index_version(self) -> str:
        """Write a new index-version marker and return it."""
        version = uuid.uuid4().hex
        self._modify_metadata(**{INDEX_VERSION_KEY: version})
        return version

    def recorded_identity(self) -> dict[str, Any] | None:
        """What built the collection (rag_core.index_identity), read fresh; None if unrecorded."""
        text = self._fresh_metadata().get(INDEX_IDENTITY_KEY)
        if not isinstance(text, str):
            return None
        try:
            record = json.loads(text)
        except ValueError:
            raise RagError("The collection's recorded index identity is not JSON.") from None
        return record if isinstance(record, dict) else None

    def record_identity(self, identity: Mapping[str, Any]) -> None:
        """Record what builds the collection in its metadata, beside the index version."""
        self._modify_metadata(**{INDEX_IDENTITY_KEY: json.dumps(dict(identity), sort_keys=True)})

    def holds_chunks(self) -> bool:
        """Whether the collection holds any chunk."""
        return self.count() > 0

    def upsert(self, chunks: Sequence[Chunk], embeddings: npt.NDArray[np.float32]) -> None:
        """Insert or overwrite chunks (deterministic ids make re-ingestion idempotent)."""
        for start in range(0, len(chunks), self._max_batch):
            batch = chunks[start : start + self._max_batch]
            vectors = embeddings[start : start + self._max_batch]
            documents = ", ".join(dict.fromkeys(c.document_id for c in batch))
            self._call(
                functools.partial(
                    self.collection.upsert,
                    ids=[c.id for c in batch],
                    embeddings=vectors,
                    documents=[c.text for c in batch],
                    metadatas=[c.metadata for c in batch],
                ),
                functools.partial(_refused_chunks, documents),
            )

    def delete_chunks_from(self, document_id: str, first_stale_position: int) -> None:
        """Delete a document's chunks at or after a position (left over by a shorter version)."""
        where = {
            "$and": [
                {"document_id": document_id},
                {"position": {"$gte": first_stale_position}},
            ]
        }
        self._call(lambda: self.collection.delete(where=where))

    def delete_document(self, document_id: str) -> bool:
        """Delete every chunk of a document; False when it had none."""
        found = self._call(
            lambda: self.collection.get(where={"document_id": document_id}, include=[], limit=1)
        )
        if not found["ids"]:
            return False
        self._call(lambda: self.collection.delete(where={"document_id": document_id}))
        return True

    def query(
        self,
        vector: npt.NDArray[np.float32],
        k: int,
        filters: Mapping[str, Any] | None = None,
        with_content: bool = True,
    ) -> list[DenseHit]:
        """The `k` nearest chunks to `vector` that match `filters` (applied inside Chroma).

        Without content, hits carry only ids and similarities: several times cheaper for the
        100 candidates of a fusion, of which only the final few need their text.
        """
        include = ["documents", "metadatas", "distances"] if with_content else ["distances"]
        result = self._call(
            lambda: self.collection.query(
                query_embeddings=vector.reshape(1, -1),
                n_results=k,
                where=chroma_where(filters),
                include=include,
            ),
            _refused_query,
        )
        ids = result["ids"][0]
        documents = (result.get("documents") or [[]])[0] or [""] * len(ids)
        metadatas = (result.get("metadatas") or [[]])[0] or [{}] * len(ids)
        distances = (result.get("distances") or [[]])[0] or [1.0] * len(ids)
        return [
            DenseHit(id=i, text=d or "", metadata=dict(m or {}), similarity=1.0 - float(s))
            for i, d, m, s in zip(ids, documents, metadatas, distances, strict=True)
        ]

    def get_chunks(
        self, ids: Sequence[str], with_embeddings: bool = False
    ) -> tuple[list[StoredChunk], npt.NDArray[np.float32] | None]:
        """Chunks by id (missing ids are skipped), with their embeddings when asked."""
        if not ids:
            return [], None
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        result = self._call(lambda: self.collection.get(ids=list(ids), include=include))
        chunks = [
            StoredChunk(id=i, text=d or "", metadata=dict(m or {}))
            for i, d, m in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        ]
        vectors = None
        if with_embeddings and result.get("embeddings") is not None:
            vectors = np.asarray(result["embeddings"], dtype=np.float32)
        return chunks, vectors

    def first_chunks(
        self, offset: int = 0, limit: int | None = None, document_id: str | None = None
    ) -> list[StoredChunk]:
        """Position-0 chunks, one per document; they carry the document's metadata."""
        where: dict[str, Any] = {"position": 0}
        if document_id is not None:
            where = {"$and": [{"position": 0}, {"document_id": document_id}]}
        result = self._call(
            lambda: self.collection.get(
                where=where, include=["metadatas"], offset=offset, limit=limit
            )
        )
        return [
            StoredChunk(id=i, text="", metadata=dict(m or {}))
            for i, m in zip(result["ids"], result["metadatas"], strict=True)
        ]

    def chunks_of(self, document_id: str) -> list[StoredChunk]:
        """Every chunk of one document, with text and metadata."""
        result = self._call(
            lambda: self.collection.get(
                where={"document_id": document_id}, include=["documents", "metadatas"]
            )
        )
        return [
            StoredChunk(id=i, text=d or "", metadata=dict(m or {}))
            for i, d, m in zip(result["ids"], result["documents"], result["metadatas"], strict=True)
        ]

    def document_count(self) -> int:
        """How many documents are stored."""
        result = self._call(lambda: self.collection.get(where={"position": 0}, include=[]))
        return len(result["ids"])

    def count(self) -> int:
        """How many chunks are stored."""
        return int(self._call(lambda: self.collection.count()))

    def iter_chunks(self, page_size: int = 2000) -> Iterator[StoredChunk]:
        """Every stored chunk, page by page (refills an in-process lexical index)."""
        offset = 0
        while True:
            result = self._call(
                functools.partial(
                    self.collection.get,
                    include=["documents", "metadatas"],
                    offset=offset,
                    limit=page_size,
                )
            )
            ids = result["ids"]
            for i, d, m in zip(ids, result["documents"], result["metadatas"], strict=True):
                yield StoredChunk(id=i, text=d or "", metadata=dict(m or {}))
            if len(ids) < page_size:
                return
            offset += page_size
