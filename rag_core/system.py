"""The facade the API uses: one `RAGSystem` per process, async on the outside.

Model inference, Chroma calls and BM25 scoring run on a bounded thread pool, never on the
event loop; queries that arrive together share one model call for their embeddings.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from rag_core.answers import QueryResult, Source, StreamEvent
from rag_core.chunking import ChunkingOptions, chunk_documents, within_chunk_limit
from rag_core.confidence import answer_confidence
from rag_core.consistency import Repair, indexed_text, repair_page
from rag_core.conversation import (
    ConversationMemory,
    InProcessMemory,
    RedisMemory,
    conversation_key,
)
from rag_core.document_originals import DocumentOriginals
from rag_core.documents import (
    Chunk,
    DocumentInfo,
    DocumentInput,
    IngestResult,
    LoadedDocument,
    chunk_id,
)
from rag_core.embeddings import (
    Embedder,
    LocalEmbedder,
    OpenAICompatibleEmbedder,
    QueryEncoder,
    make_local_embedder,
)
from rag_core.errors import InvalidQuery, LexicalIndexUnavailable, LLMUnavailable, RagError
from rag_core.extractive import NO_ANSWER, extractive_answer
from rag_core.filters import validate_filters
from rag_core.generation import (
    ExtractiveGenerator,
    Generator,
    OpenAICompatibleGenerator,
    heuristic_condense,
)
from rag_core.grounding import grounding_score
from rag_core.guardrails import Guardrails
from rag_core.index_identity import (
    IdentityKeeper,
    IdentityStore,
    IndexIdentity,
    IndexMismatch,
    LexicalIdentity,
    configured_identity,
)
from rag_core.lexical_client import RemoteLexicalIndex
from rag_core.lexical_index import LexicalResult, LexicalStore
from rag_core.parse_worker import ParsePool
from rag_core.retrieval import RetrievedChunk, Retriever
from rag_core.settings import RETRIEVAL_MODES, RagSettings
from rag_core.tantivy_lexical_index import TantivyLexicalIndex
from rag_core.vector_store import ChromaStore, DenseHit, StoredChunk

__all__ = [
    "DocumentInfo",
    "DocumentInput",
    "IngestResult",
    "QueryResult",
    "RAGSystem",
    "RagSettings",
    "Source",
    "StreamEvent",
]

BLOCKED_ANSWER = "I can't help with that request."
LOW_CONFIDENCE_ANSWER = (
    "I could not find a confident answer in the documents. The closest sources are listed."
)
#: Chunks embedded and written per step of an ingestion; the next group is encoded while
#: the previous one is written to Chroma.
INGEST_GROUP = 1024
_T = TypeVar("_T")
#: Named in `guardrails_triggered` when the language model failed and the answer (or the
#: condensed question) was made without it.
LLM_FALLBACK = "llm_fallback"
#: Named in `guardrails_triggered` when the lexical index could not be reached and a hybrid
#: query was answered from dense retrieval alone.
LEXICAL_UNAVAILABLE = "lexical_unavailable"
#: Names of degraded answers: made without a part that is down, so never worth caching.
DEGRADED = frozenset({LLM_FALLBACK, LEXICAL_UNAVAILABLE})
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Prepared:
    """A query after guardrails and condensation, ready for retrieval."""

    query: str
    standalone: str
    mode: str
    max_results: int
    threshold: float
    filters: Mapping[str, Any] | None
    triggered: list[str]
    guarded: bool
    #: Degradations on the way (`llm_fallback`), reported with the answer; never blocking.
    notes: tuple[str, ...] = ()


class RAGSystem:
    """Ingests documents and answers questions over them; see /tmp/facade.md for the contract."""

    def __init__(self, settings: RagSettings, *, embedder: Embedder | None = None) -> None:
        """Cheap, no I/O. `embedder` replaces the configured provider (evaluation, tests)."""
        self.settings = settings
        self._executor: ThreadPoolExecutor | None = None
        self._embedder: Embedder | None = embedder
        self._store = ChromaStore(settings)
        self._originals = DocumentOriginals(self._store, settings.collection_name)
        self._lexical: LexicalStore | None = None
        self._retriever: Retriever | None = None
        self._encoder: QueryEncoder | None = None
        self._generator: Generator = ExtractiveGenerator()
        self._memory: ConversationMemory | None = None
        self._guardrails = Guardrails(
            extra_blocked_patterns=settings.blocked_patterns,
            toxic_keywords=settings.toxic_keywords,
            max_query_chars=settings.max_query_chars,
            confidence_floor=settings.confidence_floor,
        )
        self._chunking = ChunkingOptions(settings.chunk_size, settings.chunk_overlap)
        self._parser = ParsePool(settings.parse_workers, settings.parse_timeout_seconds)
        self._index_version = ""
        self._identity: IdentityKeeper | None = None
        self._started = False

    # ----------------------------------------------------------------- lifecycle

    async def astart(self) -> None:
        """Load the model and open both stores, off the event loop."""
        if self._started:
            return
        self._executor = ThreadPoolExecutor(
            max_workers=self.settings.executor_workers, thread_name_prefix="rag-core"
        )
        await self._run(self._start_blocking)
        assert self._embedder is not None
        self._encoder = QueryEncoder(self._embedder.embed, self._executor)
        settings = self.settings
        if settings.redis_url:
            self._memory = RedisMemory(
                settings.redis_url, settings.conversation_turns, settings.conversation_ttl_seconds
            )
        else:
            self._memory = InProcessMemory(
                settings.conversation_turns,
                settings.conversation_ttl_seconds,
                settings.conversation_max_sessions,
            )
        if settings.llm_provider == "openai-compatible":
            self._generator = OpenAICompatibleGenerator(
                model=settings.llm_model,
                base_url=settings.llm_base_url,
                api_key=settings.llm_api_key,
                timeout_seconds=settings.llm_timeout_seconds,
                max_retries=settings.llm_max_retries,
                max_tokens=settings.llm_max_tokens,
                temperature=settings.llm_temperature,
            )
        self._started = True

    def _start_blocking(self) -> None:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings)
        if isinstance(self._embedder, LocalEmbedder):
            self._embedder.warm_up()
        self._store.open()
        self._originals.open()
        self._lexical = open_lexical_index(self.settings)
        self._retriever = Retriever(
            self._store,
            self._lexical,
            self.settings.candidates,
            self.settings.fusion_dense_weight,
        )
        stores: dict[str, IdentityStore] = {
            "vector": self._store,
            "lexical": LexicalIdentity(self._lexical),
        }
        configured = configured_identity(self.settings, self._embedder)
        self._identity = IdentityKeeper(configured, stores)
        mismatch = self._identity.check(adopt=True)
        if mismatch is not None:
            logger.error("%s. Queries and writes are refused.", mismatch.message)
        self._index_version = self._store.index_version()
        if isinstance(self._lexical, TantivyLexicalIndex) and mismatch is None:
            self._repair_local_lexical(self._lexical)

    async def aclose(self) -> None:
        """Release clients and threads; the system can be started again afterwards."""
        if self._memory is not None:
            await self._memory.aclose()
        await self._generator.aclose()
        self._generator = ExtractiveGenerator()
        if self._lexical is not None:
            self._lexical.close()
            self._lexical = None
        self._originals.close()
        self._store.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)
        self._executor = None
        self._parser.close()
        self._started = False

    async def _run(self, function: Any, *args: Any) -> Any:
        executor = _started(self._executor)
        return await asyncio.get_running_loop().run_in_executor(executor, function, *args)

    # ------------------------------------------------------------ index version

    @property
    def index_version(self) -> str:
        """Changes on every ingest or delete, as this replica last saw it (at start and after
        its own writes); `acurrent_index_version` reads the shared one."""
        return self._index_version

    async def acurrent_index_version(self) -> str:
        """The index version in the storage tier now, for what must change the moment any
        replica writes (the answer cache's keys).

        With a shared Chroma server it is one read of the collection's metadata (raises
        VectorStoreUnavailable when Chroma cannot be reached). Embedded Chroma belongs to this
        process alone, so the version it keeps is current.
        """
        _started(self._identity).refuse_if_mismatched()  # before any cached answer is served
        if not self.settings.chroma_host:
            return self._index_version
        version: str = await self._run(self._store.index_version)
        return version

    @property
    def index_mismatch(self) -> IndexMismatch | None:
        """How the active index differs from this deployment's configuration, as last checked
        (at start, before each write, on each readiness check); None when it may be used."""
        return None if self._identity is None else self._identity.mismatch

    @property
    def configured_identity(self) -> IndexIdentity:
        """The identity an index written by this deployment records."""
        return _started(self._identity).configured

    @property
    def embedder(self) -> Embedder:
        """The loaded embeddings provider (for evaluation and benchmarks)."""
        return _started(self._embedder)

    @property
    def store(self) -> ChromaStore:
        """The vector store of this deployment (for evaluation and benchmarks)."""
        return self._store

    @property
    def retriever(self) -> Retriever:
        """The retriever over this deployment's collection (for evaluation and benchmarks)."""
        return _started(self._retriever)

    @property
    def embedding_dimension(self) -> int:
        return _started(self._embedder).dimension

    def _repair_local_lexical(self, lexical: TantivyLexicalIndex) -> None:
        """Refill an in-process lexical index that does not hold what the store holds.

        Only for the index under this process's data directory: a first start on data
        written before the index existed, or a crash between the two writes of an ingestion.
        The index server of a cluster deployment is never refilled from an API pod.
        """
        stored = self._store.count()
        if len(lexical) == stored:
            return
        logger.warning(
            "The lexical index holds %d chunks and the vector store %d; rebuilding it from "
            "the vector store.",
            len(lexical),
            stored,
        )
        lexical.replace_all(
            (chunk.id, indexed_text(chunk), chunk.metadata) for chunk in self._store.iter_chunks()
        )

    def _after_write(self) -> None:
        """Publish a new index version, so every replica's answer cache sees the change."""
        self._index_version = self._store.bump_index_version()

    async def arepair_lexical(self, offset: int, limit: int) -> tuple[Repair, int]:
        """Compare `limit` documents from `offset` in both stores and fix the lexical side;
        the next offset (0: the sweep is complete). Background work, never on a request."""
        lexical = _started(self._lexical)
        _started(self._identity).refuse_if_mismatched()

        def repair() -> tuple[Repair, int]:
            repaired, next_offset = repair_page(self._store, lexical, offset, limit)
            if repaired.missing_chunks or repaired.extra_chunks:
                self._after_write()  # answers cached before the repair may differ now
            return repaired, next_offset

        result: tuple[Repair, int] = await self._run(repair)
        return result

    # ---------------------------------------------------------------- ingestion

    async def aingest(self, documents: Sequence[DocumentInput]) -> list[IngestResult]:
        """Load, chunk, embed and store documents; one result per document (JSON record lists
        give one result per record), in input order. A bad document never stops the others."""
        return list(await self._run(self._ingest_blocking, list(documents)))

    def _ingest_blocking(self, documents: list[DocumentInput]) -> list[IngestResult]:
        assert self._embedder is not None
        assert self._lexical is not None
        _started(self._identity).before_write()  # another replica may have switched the index
        results: list[IngestResult | None] = []
        loaded: list[tuple[int, LoadedDocument]] = []
        for index, document in enumerate(documents):
            # In a worker process stopped at a deadline: no document holds a core for long.
            for outcome in self._parser.load(
                document, index, self.settings.max_document_bytes, self.settings.document_limits
            ):
                if isinstance(outcome, LoadedDocument):
                    loaded.append((len(results), outcome))
                    results.append(None)
                else:
                    results.append(
                        IngestResult(
                            document_id=document.id,
                            source=document.source,
                            ok=False,
                            chunks=0,
                            error=str(outcome),
                        )
                    )
        # The last copy of a repeated id wins, as if the documents were ingested in order.
        latest = {doc.id: slot for slot, doc in loaded}
        unique = [(slot, doc) for slot, doc in loaded if latest[doc.id] == slot]
        chunked = chunk_documents(
            [doc for _, doc in unique], self._embedder.tokenizer, self._chunking
        )
        unique, chunked, too_long = within_chunk_limit(
            unique, chunked, self.settings.max_document_chunks
        )
        chunks = [chunk for doc_chunks in chunked for chunk in doc_chunks]
        # The original before its chunks: whatever has chunks can be rebuilt from its original.
        self._originals.put([doc for _, doc in unique])
        self._write_chunks(chunks)
        self._delete_stale([(doc.id, len(c)) for (_, doc), c in zip(unique, chunked, strict=True)])
        if chunks:
            self._after_write()
        counts = {doc.id: len(c) for (_, doc), c in zip(unique, chunked, strict=True)}
        for slot, doc in loaded:
            if doc.id in too_long:
                results[slot] = IngestResult(doc.id, doc.source, False, 0, str(too_long[doc.id]))
            else:
                results[slot] = IngestResult(doc.id, doc.source, True, counts[doc.id], None)
        return [r for r in results if r is not None]

    def _write_chunks(self, chunks: list[Chunk]) -> None:
        """Embed group by group; write each group while the next one is being embedded."""
        assert self._embedder is not None
        assert self._lexical is not None
        lexical = self._lexical
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-core-write") as writer:
            pending = None
            for start in range(0, len(chunks), INGEST_GROUP):
                group = chunks[start : start + INGEST_GROUP]
                vectors = self._embedder.embed([c.embed_text for c in group])
                if pending is not None:
                    pending.result()
                pending = writer.submit(self._write_group, lexical, group, vectors)
            if pending is not None:
                pending.result()

    def _write_group(
        self, lexical: LexicalStore, group: list[Chunk], vectors: npt.NDArray[np.float32]
    ) -> None:
        self._store.upsert(group, vectors)
        lexical.upsert((c.id, c.embed_text, c.metadata) for c in group)

    def _delete_stale(self, documents: list[tuple[str, int]]) -> None:
        """Remove chunks left over from longer earlier versions of re-ingested documents."""
        assert self._lexical is not None
        probes = [chunk_id(doc_id, count) for doc_id, count in documents]
        existing, _ = self._store.get_chunks(probes)
        stale = {chunk.metadata.get("document_id") for chunk in existing}
        for doc_id, count in documents:
            if doc_id in stale:
                self._store.delete_chunks_from(doc_id, count)
                self._lexical.delete_document(doc_id, count)

    # ------------------------------------------------------------------ documents

    async def alist_documents(
        self, offset: int = 0, limit: int = 50
    ) -> tuple[list[DocumentInfo], int]:
        """A page of stored documents and the total number of documents."""

        def page() -> tuple[list[DocumentInfo], int]:
            chunks = self._store.first_chunks(offset=offset, limit=limit)
            return [_document_info(c) for c in chunks], self._store.document_count()

        result: tuple[list[DocumentInfo], int] = await self._run(page)
        return result

    async def aget_document(self, document_id: str) -> DocumentInfo | None:
        """One stored document with its original (None when not kept), or None."""

        def read() -> DocumentInfo | None:
            chunks = self._store.first_chunks(document_id=document_id)
            if not chunks:
                return None
            return replace(_document_info(chunks[0]), original=self._originals.get(document_id))

        document: DocumentInfo | None = await self._run(read)
        return document

    async def adelete_document(self, document_id: str) -> bool:
        """Delete a document and all its chunks; False when it did not exist."""

        def delete() -> bool:
            assert self._lexical is not None
            _started(self._identity).before_write(record=False)
            # The lexical index first: a crash in between leaves the document in Chroma,
            # where the consistency sweep finds it and writes it back to the lexical index.
            if not self._store.first_chunks(document_id=document_id):
                # An original without chunks is a delete that stopped half way: finish it.
                return self._originals.delete(document_id)
            self._lexical.delete_document(document_id)
            found = self._store.delete_document(document_id)
            # The original last, so a crash before it leaves the document rebuildable.
            self._originals.delete(document_id)
            if found:
                self._after_write()
            return found

        deleted: bool = await self._run(delete)
        return deleted

    async def acheck_ready(self) -> dict[str, bool]:
        """Whether the vector store answers, the model is loaded and the active index was
        built by this configuration (`index_mismatch` says how not; re-read here, so a switched
        index is noticed); never takes much longer than twice `chroma_timeout_seconds`, even
        when every worker thread is busy or blocked."""
        model = self._started and self._embedder is not None
        store = False
        timeout = self.settings.chroma_timeout_seconds
        if self._started:
            try:
                store = bool(await asyncio.wait_for(self._run(self._store.heartbeat), timeout))
            except TimeoutError:
                store = False
            if store:
                # A failed re-read keeps the last verdict; the store check reports the outage.
                with contextlib.suppress(TimeoutError, RagError):
                    await asyncio.wait_for(self._run(_started(self._identity).check), timeout)
        return {"vector_store": store, "model": model, "index": self.index_mismatch is None}

    async def astats(self) -> dict[str, Any]:
        """Counts and configuration worth showing an operator."""

        def counts() -> tuple[int, int, str, dict[str, Any] | None]:
            store = self._store
            recorded = store.recorded_identity()
            identity = None if recorded is None else IndexIdentity.from_record(recorded).record()
            return store.document_count(), store.count(), store.index_version(), identity

        documents, chunks, version, identity = await self._run(counts)
        return {
            "documents": documents,
            "chunks": chunks,
            "collection": self.settings.collection_name,
            "vector_store": self._store.mode,
            "mode": self.settings.retrieval_mode,
            "model": self.settings.embeddings_model,
            "dimension": self.embedding_dimension,
            "llm_provider": self.settings.llm_provider,
            "index_version": version,
            "lexical_index": "server" if self.settings.lexical_index_url else "in-process",
            # What built the index, as the index records it (None before its first write).
            "index": identity,
        }

    # ------------------------------------------------------------------- queries

    async def _prepare(
        self,
        query: str,
        max_results: int | None,
        threshold: float | None,
        mode: str | None,
        filters: Mapping[str, Any] | None,
        use_guardrails: bool,
        memory_key: str | None,
    ) -> tuple[_Prepared, list[tuple[str, str]]]:
        _started(self._identity).refuse_if_mismatched()
        chosen_mode = mode or self.settings.retrieval_mode
        if chosen_mode not in RETRIEVAL_MODES:
            raise InvalidQuery(
                f"Unknown retrieval mode {chosen_mode!r}; use one of {RETRIEVAL_MODES}."
            )
        # RETRIEVAL_TOP_K is the deployment's answer to "how many sources" when the caller
        # does not say, as RETRIEVAL_THRESHOLD is for the threshold.
        chosen_max = self.settings.top_k if max_results is None else max_results
        if not 1 <= chosen_max <= 100:
            raise InvalidQuery("max_results must be between 1 and 100.")
        chosen_threshold = self.settings.threshold if threshold is None else threshold
        if not 0.0 <= chosen_threshold <= 1.0:
            raise InvalidQuery("threshold must be between 0 and 1.")
        validate_filters(filters, self.settings)
        guarded = use_guardrails and self.settings.guardrails_enabled
        triggered = self.input_guardrails(query, use_guardrails)
        if not guarded and not query.strip():
            raise InvalidQuery("The query is empty.")
        history: list[tuple[str, str]] = []
        if memory_key is not None and self._memory is not None and not triggered:
            history = await self._memory.history(memory_key)
        standalone = query
        notes: tuple[str, ...] = ()
        if history:
            try:
                standalone = await self._generator.acondense(history, query)
            except LLMUnavailable as error:
                if not self.settings.llm_fallback_to_extractive:
                    raise
                logger.warning("The language model failed to condense a follow-up: %s", error)
                standalone, notes = heuristic_condense(history, query), (LLM_FALLBACK,)
        prepared = _Prepared(
            query,
            standalone,
            chosen_mode,
            chosen_max,
            chosen_threshold,
            filters,
            triggered,
            guarded,
            notes,
        )
        return prepared, history

    def input_guardrails(self, query: str, use_guardrails: bool = True) -> list[str]:
        """The input rules `query` breaks, by name; none when guardrails are off (for this
        request or the deployment). Cheap and pure: callers may judge a query before deciding
        anything else about it, as the answer cache does."""
        if not (use_guardrails and self.settings.guardrails_enabled):
            return []
        return self._guardrails.check_input(query).triggered

    async def _retrieve(
        self, prepared: _Prepared, timings: dict[str, float]
    ) -> tuple[list[Source], list[str]]:
        """The sources of a prepared query, and the degradations on the way (a hybrid query
        whose lexical side is down is answered from the dense side, flagged)."""
        encoder, retriever = _started(self._encoder), _started(self._retriever)
        mode, query, filters = prepared.mode, prepared.standalone, prepared.filters
        # Dense mode needs only the final chunks; fusion needs a candidate list of each side.
        candidates = max(retriever.candidates, prepared.max_results)
        dense_count = prepared.max_results if mode == "dense" else candidates
        started = time.perf_counter()
        lexical_task: asyncio.Future[LexicalResult] | None = None
        if mode != "dense":
            # BM25 needs no vector, so it runs while the query is being embedded.
            lexical_task = asyncio.ensure_future(
                self._run(self._lexical_search, query, filters, candidates)
            )
        dense_hits: list[DenseHit] = []
        try:
            vector = await encoder.encode(query)
            timings["embed"] = time.perf_counter() - started
            if mode != "lexical":
                dense_hits = await self._run(
                    retriever.dense, vector, filters, dense_count, mode == "dense"
                )
        except BaseException:
            if lexical_task is not None:
                # The error raised here is the one reported; the lexical side, which may fail
                # the same way (Chroma down), must not also surface as an unretrieved exception.
                lexical_task.add_done_callback(_consume_outcome)
            raise
        degraded: list[str] = []
        lexical = LexicalResult([])
        if lexical_task is not None:
            try:
                lexical = await lexical_task
            except LexicalIndexUnavailable as error:
                if mode == "lexical":
                    raise
                logger.warning("Answering from dense retrieval alone: %s", error)
                degraded.append(LEXICAL_UNAVAILABLE)
                mode = "dense"
        ranking = retriever.rank(mode, dense_hits, lexical)
        chunks: list[RetrievedChunk] = await self._run(
            retriever.materialise,
            ranking,
            dense_hits,
            vector,
            prepared.max_results,
            prepared.threshold,
        )
        timings["retrieve"] = time.perf_counter() - started - timings["embed"]
        sources = [
            Source(c.text, round(c.similarity, 4), _public_metadata(c.metadata)) for c in chunks
        ]
        return sources, degraded

    async def asearch(
        self,
        query: str,
        *,
        max_results: int | None = None,
        threshold: float | None = None,
        mode: str | None = None,
        filters: Mapping[str, Any] | None = None,
    ) -> tuple[list[Source], dict[str, float]]:
        """Retrieval only (no guardrails, memory or generation): sources and stage timings."""
        timings = {"embed": 0.0, "retrieve": 0.0}
        prepared, _ = await self._prepare(query, max_results, threshold, mode, filters, False, None)
        sources, _ = await self._retrieve(prepared, timings)
        return sources, timings

    def _lexical_search(
        self, query: str, filters: Mapping[str, Any] | None, k: int
    ) -> LexicalResult:
        assert self._retriever is not None
        return self._retriever.lexical(query, filters, k)

    def _fall_back(self, error: LLMUnavailable, query: str, sources: list[Source]) -> str:
        """The extractive answer when the model failed, or `error` again when that is off."""
        if not self.settings.llm_fallback_to_extractive:
            raise error
        logger.warning("The language model failed; answering extractively: %s", error)
        return extractive_answer(query, sources)

    def _judge(
        self, prepared: _Prepared, answer: str, sources: list[Source]
    ) -> tuple[str, float, list[str]]:
        """Confidence and output guardrails; a low-confidence answer becomes a refusal."""
        if not sources:
            return NO_ANSWER, 0.0, []
        grounding = grounding_score(answer, sources)
        confidence = answer_confidence([s.similarity for s in sources], grounding)
        fired = (
            self._guardrails.check_output(answer, sources, confidence) if prepared.guarded else []
        )
        if "low_confidence" in fired:
            answer = LOW_CONFIDENCE_ANSWER
        return answer, confidence, fired

    async def aquery(
        self,
        query: str,
        *,
        max_results: int | None = None,
        threshold: float | None = None,
        mode: str | None = None,
        filters: Mapping[str, Any] | None = None,
        use_guardrails: bool = True,
        conversation_id: str | None = None,
        caller: str | None = None,
    ) -> QueryResult:
        """Answer a question from the documents, with sources, confidence and timings.

        A `conversation_id` is the caller's own: `caller` (a stable identity such as a user
        name, never a credential) and the id together name the conversation remembered.
        """
        started = time.perf_counter()
        timings = {"embed": 0.0, "retrieve": 0.0, "generate": 0.0}
        memory_key = conversation_key(caller, conversation_id) if conversation_id else None
        prepared, _ = await self._prepare(
            query, max_results, threshold, mode, filters, use_guardrails, memory_key
        )
        if prepared.triggered:
            timings["total"] = time.perf_counter() - started
            return QueryResult(BLOCKED_ANSWER, [], 0.0, prepared.triggered, timings, True, query)
        sources, degraded = await self._retrieve(prepared, timings)
        generate_started = time.perf_counter()
        notes = [*prepared.notes, *degraded]
        answer = ""
        if sources:
            try:
                answer = await self._generator.agenerate(prepared.standalone, sources)
            except LLMUnavailable as error:
                answer = self._fall_back(error, prepared.standalone, sources)
                notes.append(LLM_FALLBACK)
        timings["generate"] = time.perf_counter() - generate_started
        answer, confidence, fired = self._judge(prepared, answer, sources)
        fired = _merged(notes, fired)
        if memory_key is not None and self._memory is not None:
            await self._memory.remember(memory_key, query, answer)
        timings["total"] = time.perf_counter() - started
        return QueryResult(answer, sources, confidence, fired, timings, False, prepared.standalone)

    async def astream(
        self,
        query: str,
        *,
        max_results: int | None = None,
        threshold: float | None = None,
        mode: str | None = None,
        filters: Mapping[str, Any] | None = None,
        use_guardrails: bool = True,
        conversation_id: str | None = None,
        caller: str | None = None,
    ) -> AsyncIterator[StreamEvent]:
        """Stream an answer: one "sources" event, then "token" events, then one "final" event.

        Output guardrails run on the whole answer once it is complete; the final event carries
        what fired (tokens already sent cannot be taken back) and `answer`, the judged answer.
        Conversations are kept per `caller`, as in `aquery`.
        """
        started = time.perf_counter()
        timings = {"embed": 0.0, "retrieve": 0.0, "generate": 0.0}
        memory_key = conversation_key(caller, conversation_id) if conversation_id else None
        prepared, _ = await self._prepare(
            query, max_results, threshold, mode, filters, use_guardrails, memory_key
        )
        if prepared.triggered:
            yield StreamEvent("sources", {"sources": [], "standalone_query": query})
            yield StreamEvent("token", {"text": BLOCKED_ANSWER})
            timings["total"] = time.perf_counter() - started
            yield StreamEvent(
                "final",
                {
                    "answer": BLOCKED_ANSWER,
                    "confidence": 0.0,
                    "guardrails_triggered": prepared.triggered,
                    "timings": timings,
                    "blocked": True,
                },
            )
            return
        sources, degraded = await self._retrieve(prepared, timings)
        yield StreamEvent(
            "sources",
            {
                "sources": [asdict(s) for s in sources],
                "standalone_query": prepared.standalone,
            },
        )
        generate_started = time.perf_counter()
        parts: list[str] = []
        notes = [*prepared.notes, *degraded]
        if sources:
            try:
                async for token in self._generator.astream(prepared.standalone, sources):
                    parts.append(token)
                    yield StreamEvent("token", {"text": token})
            except LLMUnavailable as error:
                if parts:
                    raise  # tokens already sent cannot be taken back
                fallback = self._fall_back(error, prepared.standalone, sources)
                parts.append(fallback)
                notes.append(LLM_FALLBACK)
                yield StreamEvent("token", {"text": fallback})
        else:
            parts.append(NO_ANSWER)
            yield StreamEvent("token", {"text": NO_ANSWER})
        timings["generate"] = time.perf_counter() - generate_started
        answer, confidence, fired = self._judge(prepared, "".join(parts), sources)
        fired = _merged(notes, fired)
        if memory_key is not None and self._memory is not None:
            await self._memory.remember(memory_key, query, answer)
        timings["total"] = time.perf_counter() - started
        yield StreamEvent(
            "final",
            {
                "answer": answer,
                "confidence": confidence,
                "guardrails_triggered": fired,
                "timings": timings,
                "blocked": False,
            },
        )


def _merged(first: list[str], then: list[str]) -> list[str]:
    """Both lists in order, each name once."""
    return list(dict.fromkeys([*first, *then]))


def open_lexical_index(settings: RagSettings) -> LexicalStore:
    """The deployment's lexical index: the index server when `lexical_index_url` names one,
    else a tantivy index of this collection under the data directory (blocking)."""
    if settings.lexical_index_url:
        return RemoteLexicalIndex(
            settings.lexical_index_url, settings.lexical_index_token, settings.collection_name
        )
    if settings.chroma_host:
        logger.warning(
            "The lexical index is this process's own, beside a shared Chroma server: other "
            "replicas' writes will not reach it. Set LEXICAL_INDEX_URL to share one index."
        )
    return TantivyLexicalIndex(settings.lexical_path)


def make_embedder(settings: RagSettings) -> Embedder:
    """The configured embeddings provider (loads the model; blocking)."""
    if settings.embeddings_provider == "openai-compatible":
        return OpenAICompatibleEmbedder(
            model=settings.embeddings_model,
            base_url=settings.embeddings_base_url or settings.llm_base_url,
            api_key=settings.embeddings_api_key or settings.llm_api_key,
            timeout=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
            batch_size=settings.embeddings_batch_size,
        )
    return make_local_embedder(settings)


def _consume_outcome(future: asyncio.Future[Any]) -> None:
    """Mark a finished future's exception as seen, when no one will await it."""
    if not future.cancelled():
        future.exception()


def _started(part: _T | None) -> _T:
    """A part of the system that exists only between astart() and aclose()."""
    if part is None:
        raise RagError("The RAG system is not started; call astart() first.")
    return part


_INTERNAL_KEYS = frozenset({"title_prefixed", "content_hash"})


def _public_metadata(metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in metadata.items() if k not in _INTERNAL_KEYS}


def _document_info(first_chunk: StoredChunk) -> DocumentInfo:
    metadata = _public_metadata(first_chunk.metadata)
    document_id = str(metadata.pop("document_id", ""))
    source = metadata.pop("source", "") or None
    chunks = int(metadata.pop("chunks", 0))
    for key in ("position", "section"):
        metadata.pop(key, None)
    return DocumentInfo(id=document_id, source=source, metadata=metadata, chunks=chunks)
