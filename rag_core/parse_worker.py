"""Documents parsed in worker processes, each one stopped at a deadline.

A thread cannot be stopped, and a parser stuck in C (a regular expression, zlib, libxml2)
does not even see a signal, so one hostile document could hold a core for minutes. Here
each document goes to a worker process over a pipe; when its answer is late, that worker
is killed and replaced, and the document is rejected naming the limit. Workers stay up
between documents, so a normal document costs a round trip over a pipe (well under a
millisecond) rather than a process start. At most `workers` documents are parsed at once;
more callers wait for a free worker.
"""

from __future__ import annotations

import multiprocessing
import queue
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from rag_core.documents import DocumentInput, DocumentLimits, display_name
from rag_core.errors import DocumentRejected
from rag_core.loading import LoadOutcome, load_document

#: Fork a small preloaded server rather than this process, which holds threads and a model.
_START_METHOD = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
_Job = tuple[DocumentInput, int, int, DocumentLimits]
#: How long a new worker may take to start (import the parsers) before the pool gives up;
#: the parse deadline only starts once a worker is ready.
START_TIMEOUT_SECONDS = 60.0
_READY = "ready"


def _serve(connection: Connection) -> None:
    """A worker's loop: parse each job it receives and send back the outcomes."""
    connection.send(_READY)
    while True:
        try:
            job: _Job | None = connection.recv()
        except (EOFError, OSError, KeyboardInterrupt):
            return  # the parent is gone or shutting down
        if job is None:
            return
        connection.send(load_document(*job))


class _Worker:
    """One worker process and the parent's end of its pipe."""

    def __init__(self) -> None:
        context = multiprocessing.get_context(_START_METHOD)
        if _START_METHOD == "forkserver":
            # Workers fork from a server that has imported the parsers once, and nothing of
            # the parent's __main__.
            context.set_forkserver_preload([__name__])  # type: ignore[attr-defined]
        self.connection, child = context.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child,), daemon=True, name="rag-core-parse"
        )
        self.process.start()
        child.close()
        if not self.connection.poll(START_TIMEOUT_SECONDS) or self.connection.recv() != _READY:
            self.stop(kill=True)
            raise RuntimeError(f"a parse worker did not start in {START_TIMEOUT_SECONDS:g} s")

    def stop(self, *, kill: bool) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except OSError:
                self.process.kill()
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.connection.close()


class ParsePool:
    """Loads documents (`rag_core.loading.load_document`) in worker processes with a deadline.

    Cheap to build: workers start on first use, and again after `close`. Thread-safe.
    """

    def __init__(self, workers: int, timeout_seconds: float) -> None:
        if workers < 1:
            raise ValueError("a parse pool needs at least one worker")
        self.timeout_seconds = timeout_seconds
        self._size = workers
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        self._lock = threading.Lock()
        self._all: set[_Worker] = set()
        self._fill()

    def _fill(self) -> None:
        # None stands for a worker not started yet: it is started by whoever takes it.
        for _ in range(self._size):
            self._idle.put(None)

    def load(
        self, document: DocumentInput, index: int, max_bytes: int, limits: DocumentLimits
    ) -> list[LoadOutcome]:
        """`load_document(document, index, max_bytes, limits)`, parsed in a worker; a parse
        that takes longer than `timeout_seconds` is stopped and becomes a rejection."""
        worker = self._idle.get() or self._start()
        try:
            worker.connection.send((document, index, max_bytes, limits))
            if worker.connection.poll(self.timeout_seconds):
                outcomes: list[LoadOutcome] = worker.connection.recv()
                self._idle.put(worker)
                return outcomes
            reason = (
                f"parsing it took longer than the limit of {self.timeout_seconds:g} seconds "
                "(parse_timeout_seconds)"
            )
        except (EOFError, OSError):
            # Killed from outside (out of memory) or crashed in C: this document's doing.
            reason = "its parser stopped unexpectedly"
        self._retire(worker)
        self._idle.put(None)
        return [DocumentRejected(display_name(document, index), reason)]

    def _start(self) -> _Worker:
        worker = _Worker()
        with self._lock:
            self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.discard(worker)
        worker.stop(kill=True)

    def close(self) -> None:
        """Stop every worker; documents being parsed meanwhile come back as rejections."""
        with self._lock:
            workers, self._all = list(self._all), set()
        for worker in workers:
            worker.stop(kill=False)
        self._idle = queue.Queue()
        self._fill()
