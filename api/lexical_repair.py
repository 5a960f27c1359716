"""The background sweep that keeps the lexical index in step with the vector store.

A crash between the two writes of an ingestion (an API pod SIGKILLed, the index server
SIGKILLed) leaves a document in Chroma whose chunks the lexical index lacks or holds more of
(see rag_core.consistency). Every LEXICAL_REPAIR_INTERVAL_SECONDS each API pod walks Chroma's
documents a page at a time, with a pause between pages so the sweep costs little, and writes
what differs into the lexical index; a repair is counted in `rag_lexical_index_repairs_total`
and logged as `lexical_index_repaired`. The sweep is idempotent, so replicas may overlap.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog

from api.metrics import Metrics
from rag_core import RAGSystem
from rag_core.errors import RagError

log = structlog.get_logger("api.lexical_repair")


class LexicalRepairer:
    """Runs `RAGSystem.arepair_lexical` page by page, for ever, until stopped."""

    def __init__(
        self,
        rag: RAGSystem,
        metrics: Metrics,
        *,
        interval_seconds: float,
        page_documents: int,
        pause_seconds: float,
    ) -> None:
        self._rag = rag
        self._metrics = metrics
        self._interval = interval_seconds
        self._page = page_documents
        self._pause = pause_seconds
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Begin sweeping (no-op when the interval is 0: sweeping switched off)."""
        if self._interval > 0 and self._task is None:
            self._task = asyncio.create_task(self._sweep_for_ever(), name="lexical-repair")

    async def stop(self) -> None:
        """Stop between two steps."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def sweep_once(self) -> tuple[int, int]:
        """One whole pass over the documents; (missing, extra) chunks it fixed."""
        offset, missing, extra = 0, 0, 0
        while True:
            repair, offset = await self._rag.arepair_lexical(offset, self._page)
            missing += repair.missing_chunks
            extra += repair.extra_chunks
            if offset == 0:
                break
            await asyncio.sleep(self._pause)
        if missing or extra:
            self._metrics.lexical_repairs.labels("missing").inc(missing)
            self._metrics.lexical_repairs.labels("extra").inc(extra)
            log.warning("lexical_index_repaired", missing_chunks=missing, extra_chunks=extra)
        return missing, extra

    async def _sweep_for_ever(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            try:
                await self.sweep_once()
            except RagError as error:
                # A store that is down now is reported by /ready and the queries; try later.
                log.warning("lexical_repair_postponed", error_type=type(error).__name__)
