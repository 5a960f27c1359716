"""What built an index, recorded with the index, and the refusal to mix embedding spaces.

An index is only meaningful for the configuration that built it: vectors of two embedding
models are not comparable even at the same dimension, chunks cut at another size answer
differently, and BM25 terms from another analyzer do not match. So each store records the
`IndexIdentity` that built it, beside its data and never in settings: the Chroma collection in
its metadata, the lexical index in a small manifest of its own. The API compares the identity
it is configured with against what the stores record (`differences`) and refuses to serve or
write an index built by anything else (`IdentityKeeper`).

Recording: the first write to an empty index records the configured identity, `built_at`
then. An index that already holds chunks but records no identity (written before identities
were recorded) is adopted once, at start, as built by the configured identity, with a warning
in the log; its `built_at` is the moment of adoption, since the real build time is unknown.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal, Protocol

from rag_core.embeddings import Embedder, LocalEmbedder, OpenAICompatibleEmbedder
from rag_core.errors import IndexModelMismatch, LexicalIndexUnavailable, RagError
from rag_core.lexical_index import ANALYZER_VERSION, LexicalStore
from rag_core.settings import RagSettings

logger = logging.getLogger(__name__)

Aspect = Literal["embedding", "chunking", "analyzer"]


@dataclass(frozen=True)
class IndexIdentity:
    """The configuration an index was built with (or that a deployment would build with)."""

    embedding_provider: str
    embedding_model: str
    dimension: int
    normalized: bool
    chunk_size: int
    chunk_overlap: int
    analyzer: str
    #: ISO-8601 in UTC: when the first chunk was written (or the index was adopted).
    built_at: str

    def record(self) -> dict[str, Any]:
        """The identity as stored: a flat mapping of JSON scalars."""
        return asdict(self)

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> IndexIdentity:
        """An identity read back from a store; a record missing a field is corrupt."""
        try:
            return cls(
                embedding_provider=str(record["embedding_provider"]),
                embedding_model=str(record["embedding_model"]),
                dimension=int(record["dimension"]),
                normalized=bool(record["normalized"]),
                chunk_size=int(record["chunk_size"]),
                chunk_overlap=int(record["chunk_overlap"]),
                analyzer=str(record["analyzer"]),
                built_at=str(record["built_at"]),
            )
        except (KeyError, TypeError, ValueError) as error:
            raise RagError(f"The index's recorded identity is unreadable: {error!r}") from None

    def to_json(self) -> str:
        """The identity as one JSON string (Chroma metadata holds scalars only)."""
        return json.dumps(self.record(), sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> IndexIdentity:
        """The identity `to_json` wrote."""
        try:
            record = json.loads(text)
        except ValueError:
            raise RagError("The index's recorded identity is not JSON.") from None
        if not isinstance(record, dict):
            raise RagError("The index's recorded identity is not a JSON object.")
        return cls.from_record(record)


def now_iso() -> str:
    """The current time as ISO-8601 in UTC, to the second."""
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def embedder_provider(embedder: Embedder, settings: RagSettings) -> str:
    """The provider of a loaded embedder; a wrapped one (evaluation's cache) is the configured."""
    if isinstance(embedder, LocalEmbedder):
        return "local"
    if isinstance(embedder, OpenAICompatibleEmbedder):
        return "openai-compatible"
    return settings.embeddings_provider


def configured_identity(
    settings: RagSettings, embedder: Embedder, built_at: str | None = None
) -> IndexIdentity:
    """The identity an index written by this deployment gets (blocking: an
    OpenAI-compatible embedder asks its endpoint for the dimension once)."""
    return IndexIdentity(
        embedding_provider=embedder_provider(embedder, settings),
        embedding_model=embedder.name,
        dimension=embedder.dimension,
        # Both embedders L2-normalise every vector (cosine space); see rag_core.embeddings.
        normalized=True,
        chunk_size=settings.chunk_size,
        chunk_overlap=settings.chunk_overlap,
        analyzer=ANALYZER_VERSION,
        built_at=built_at or now_iso(),
    )


@dataclass(frozen=True)
class Difference:
    """One way a recorded identity differs from the configured one, in words."""

    aspect: Aspect
    message: str


def _embedding(identity: IndexIdentity) -> str:
    shape = "normalised" if identity.normalized else "not normalised"
    return (
        f"{identity.embedding_model!r} ({identity.embedding_provider}, "
        f"{identity.dimension} dimensions, {shape})"
    )


def _chunking(identity: IndexIdentity) -> str:
    return f"{identity.chunk_size} tokens with {identity.chunk_overlap} overlap"


def differences(configured: IndexIdentity, recorded: IndexIdentity) -> list[Difference]:
    """How `recorded` (what built the index) differs from `configured` (what this deployment
    would build with): embedding space, chunking, lexical analyzer; `built_at` never counts."""
    found: list[Difference] = []
    embedding = ("embedding_provider", "embedding_model", "dimension", "normalized")
    if any(getattr(configured, f) != getattr(recorded, f) for f in embedding):
        found.append(
            Difference(
                "embedding",
                f"the index was built with embedding model {_embedding(recorded)}; this "
                f"deployment is configured with {_embedding(configured)}",
            )
        )
    if (configured.chunk_size, configured.chunk_overlap) != (
        recorded.chunk_size,
        recorded.chunk_overlap,
    ):
        found.append(
            Difference(
                "chunking",
                f"the index was chunked at {_chunking(recorded)}; this deployment is "
                f"configured for {_chunking(configured)}",
            )
        )
    if configured.analyzer != recorded.analyzer:
        found.append(
            Difference(
                "analyzer",
                f"the lexical index was analysed with {recorded.analyzer!r}; this deployment "
                f"analyses with {configured.analyzer!r}",
            )
        )
    return found


def rebuild_hint(settings: RagSettings) -> str:
    """How to get an index this configuration may serve (there is no re-index command yet)."""
    keep = (
        "To keep serving the existing index instead, set the embedding and chunking settings "
        "back to what it records."
    )
    if settings.chroma_host:
        return (
            "There is no re-index command yet: ingest the documents again into a new collection "
            f"(CHROMA_COLLECTION_NAME other than {settings.collection_name!r}) with this "
            f"configuration. {keep}"
        )
    return (
        "There is no re-index command yet: start on a new data directory and ingest the "
        "documents again (`ragkube serve --data-dir ./data-rebuilt`, then POST /documents), or "
        f"stop the server and delete {settings.data_dir} to start empty. {keep}"
    )


@dataclass(frozen=True)
class IndexMismatch:
    """The active index was built by another configuration than this deployment's."""

    configured: IndexIdentity
    recorded: IndexIdentity
    differences: tuple[Difference, ...]

    @property
    def message(self) -> str:
        """One sentence naming both sides of every difference."""
        return "This deployment cannot use its index: " + "; ".join(
            d.message for d in self.differences
        )

    def details(self) -> dict[str, Any]:
        """What /ready and the error envelope carry: both identities and the differences."""
        return {
            "configured": self.configured.record(),
            "recorded": self.recorded.record(),
            "differences": [asdict(d) for d in self.differences],
        }

    def error(self) -> IndexModelMismatch:
        """The refusal of a query or write on this index."""
        return IndexModelMismatch(self.message, self.details())


class IdentityStore(Protocol):
    """A store that keeps the identity of what it holds (Chroma, the lexical index)."""

    def recorded_identity(self) -> Mapping[str, Any] | None: ...

    def record_identity(self, identity: Mapping[str, Any]) -> None: ...

    def holds_chunks(self) -> bool: ...


class LexicalIdentity:
    """A lexical index as an `IdentityStore`."""

    def __init__(self, lexical: LexicalStore) -> None:
        self._lexical = lexical

    def recorded_identity(self) -> Mapping[str, Any] | None:
        return self._lexical.recorded_identity()

    def record_identity(self, identity: Mapping[str, Any]) -> None:
        self._lexical.record_identity(identity)

    def holds_chunks(self) -> bool:
        return len(self._lexical) > 0


class IdentityKeeper:
    """Knows what the index records and whether this deployment may use it.

    `check` reads both stores' records (blocking, one small read each); `before_write`
    re-checks, since another replica or a re-index may have switched the active index, then
    records the configured identity where an empty store records none yet.
    """

    def __init__(self, configured: IndexIdentity, stores: Mapping[str, IdentityStore]) -> None:
        self.configured = configured
        self._stores = dict(stores)
        self.recorded: IndexIdentity | None = None
        self.mismatch: IndexMismatch | None = None
        self._records: dict[str, Mapping[str, Any] | None] = {}

    def check(self, adopt: bool = False) -> IndexMismatch | None:
        """Compare each store's record with the configured identity; with `adopt`, a store
        holding chunks without a record is adopted as built by the configured identity."""
        records: dict[str, Mapping[str, Any] | None] = {}
        for name, store in self._stores.items():
            try:
                records[name] = store.recorded_identity()
            except LexicalIndexUnavailable as error:
                # The lexical index may be down while the pod starts or serves (hybrid queries
                # fall back to dense); its record is compared on the next check.
                logger.warning("Could not read the %s index's identity: %s", name, error)
        self._records = records
        identities = {
            name: IndexIdentity.from_record(record)
            for name, record in records.items()
            if record is not None
        }
        self.recorded = next(iter(identities.values()), None)
        found: list[Difference] = []
        for identity in identities.values():
            found.extend(d for d in differences(self.configured, identity) if d not in found)
        if found:
            assert self.recorded is not None
            self.mismatch = IndexMismatch(self.configured, self.recorded, tuple(found))
            return self.mismatch
        self.mismatch = None
        if adopt:
            for name, store in self._stores.items():
                if name not in records or records[name] is not None:
                    continue
                if self.recorded is None:
                    if not store.holds_chunks():
                        continue  # an empty index: its first write records the identity
                    self.recorded = replace(self.configured, built_at=now_iso())
                    logger.warning(
                        "The %s index holds chunks but records no identity (written before "
                        "identities were recorded); adopting it, once, as built by %s.",
                        name,
                        self.recorded.to_json(),
                    )
                store.record_identity(self.recorded.record())
                records[name] = self.recorded.record()
        return None

    def before_write(self, record: bool = True) -> None:
        """Raise `IndexModelMismatch` unless the active index is this deployment's; with
        `record`, record the identity in every store that has none yet (the first write,
        `built_at` now). Blocking: one small read per store."""
        mismatch = self.check()
        if mismatch is not None:
            raise mismatch.error()
        if not record:
            return
        first = self.recorded or replace(self.configured, built_at=now_iso())
        for name, store in self._stores.items():
            if name in self._records and self._records[name] is None:
                store.record_identity(first.record())
                self._records[name] = first.record()
        self.recorded = first

    def refuse_if_mismatched(self) -> None:
        """Raise `IndexModelMismatch` when the last check found one (no I/O: for queries)."""
        if self.mismatch is not None:
            raise self.mismatch.error()
