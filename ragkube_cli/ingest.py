"""`ragkube ingest`: find files, send each one, show progress, sum up what failed.

Files named on the command line are always sent; folders are walked for the formats the API
reads (SUPPORTED_SUFFIXES), skipping hidden files and folders. Each file is its own request,
so one bad file never costs the others and every failure names its file.

Two ways in: through a running API with the Python SDK (the default), or `--local`, straight
into rag_core with the same settings `ragkube serve` reads from the environment (DATA_DIR
etc.). Use `--local` only while no server is using the same data directory.
"""

from __future__ import annotations

import asyncio
import mimetypes
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from ragkube_client import ApiConnectionError, RagkubeClient, RagkubeError
from ragkube_client.models import IngestResult, MetadataValue

SUPPORTED_SUFFIXES = frozenset(
    {".txt", ".text", ".md", ".markdown", ".html", ".htm", ".pdf", ".json", ".jsonl", ".ndjson"}
)


@dataclass
class FileOutcome:
    """What happened to one file."""

    path: Path
    size: int
    ok: bool
    document_ids: list[str] = field(default_factory=list)
    chunks: int = 0
    error: str | None = None

    @property
    def display_path(self) -> str:
        """The path as text that can always be printed.

        A name with bytes that are not UTF-8 reaches Python with surrogate escapes, which
        no terminal or JSON encoder accepts; those bytes are shown as `\\xNN`.
        """
        return os.fsencode(self.path).decode("utf-8", "backslashreplace")

    def as_json(self) -> dict[str, Any]:
        """The outcome as `--json` prints it."""
        return {
            "path": self.display_path,
            "ok": self.ok,
            "document_ids": self.document_ids,
            "chunks": self.chunks,
            "error": self.error,
        }


def collect_files(paths: Sequence[Path]) -> tuple[list[Path], list[str]]:
    """The files to send (sorted, without duplicates) and the paths that do not exist."""
    found: dict[Path, None] = {}
    missing: list[str] = []
    for path in paths:
        if path.is_file():
            found[path] = None
        elif path.is_dir():
            for candidate in sorted(path.rglob("*")):
                relative = candidate.relative_to(path).parts
                if any(part.startswith(".") for part in relative):
                    continue
                if candidate.is_file() and candidate.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[candidate] = None
        else:
            missing.append(str(path))
    return list(found), missing


def outcome_from_results(path: Path, size: int, results: Iterable[IngestResult]) -> FileOutcome:
    """One file's outcome from the per-document results it produced."""
    items = list(results)
    errors = [r.error or "rejected" for r in items if not r.ok]
    return FileOutcome(
        path=path,
        size=size,
        ok=bool(items) and not errors,
        document_ids=[r.document_id for r in items if r.ok and r.document_id],
        chunks=sum(r.chunks for r in items if r.ok),
        error="; ".join(errors) if errors else (None if items else "no document was created"),
    )


class Ingestor(Protocol):
    """Sends one file somewhere and says what happened."""

    def __call__(self, path: Path, size: int) -> FileOutcome: ...


def api_ingestor(client: RagkubeClient, metadata: dict[str, MetadataValue]) -> Ingestor:
    """Upload through the API; HTTP-level refusals become that file's failure.

    A connection failure is not a file's fault: it propagates and stops the run.
    """

    def ingest(path: Path, size: int) -> FileOutcome:
        try:
            response = client.ingest_files([path], metadata=metadata or None)
        except ApiConnectionError:
            raise
        except RagkubeError as exc:
            if exc.status_code in (401, 403):
                raise
            return FileOutcome(path, size, ok=False, error=exc.message)
        except OSError as exc:
            return FileOutcome(path, size, ok=False, error=f"cannot read it: {exc.strerror}")
        return outcome_from_results(path, size, response.results)

    return ingest


class LocalIngestor:
    """Ingest straight into rag_core (the embedded store `ragkube serve` would use)."""

    def __init__(self, metadata: dict[str, MetadataValue]) -> None:
        from api.settings import Settings
        from rag_core import RAGSystem

        self._metadata = metadata
        self._loop = asyncio.new_event_loop()
        self._rag = RAGSystem(Settings().to_rag_settings())
        self._loop.run_until_complete(self._rag.astart())

    def __call__(self, path: Path, size: int) -> FileOutcome:
        from rag_core import DocumentInput

        try:
            content = path.read_bytes()
        except OSError as exc:
            return FileOutcome(path, size, ok=False, error=f"cannot read it: {exc.strerror}")
        document = DocumentInput(
            content=content,
            source=path.name,
            content_type=mimetypes.guess_type(path.name)[0],
            metadata=dict(self._metadata),
        )
        results = self._loop.run_until_complete(self._rag.aingest([document]))
        return outcome_from_results(
            path,
            size,
            (
                IngestResult(
                    document_id=r.document_id,
                    source=r.source,
                    ok=r.ok,
                    chunks=r.chunks,
                    error=r.error,
                )
                for r in results
            ),
        )

    def close(self) -> None:
        """Close the store and the event loop."""
        self._loop.run_until_complete(self._rag.aclose())
        self._loop.close()


def run_with_progress(
    files: Sequence[Path],
    ingest: Ingestor,
    console: Console,
    *,
    show_progress: bool = True,
    on_outcome: Callable[[FileOutcome], None] | None = None,
) -> list[FileOutcome]:
    """Send every file, with a progress bar (bytes, rate, ETA) on `console`."""
    sizes = {path: _size(path) for path in files}
    outcomes: list[FileOutcome] = []
    columns = (
        TextColumn("[bold]ingesting"),
        BarColumn(),
        TextColumn("{task.fields[done]}/{task.fields[files]} files"),
        DownloadColumn(),
        TransferSpeedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[current]}", style="dim"),
    )
    with Progress(*columns, console=console, disable=not show_progress) as bar:
        task = bar.add_task(
            "ingest", total=sum(sizes.values()) or 1, done=0, files=len(files), current=""
        )
        for done, path in enumerate(files, start=1):
            # The progress column reads rich markup: a file named "[/].md" must stay text.
            name = os.fsencode(path.name).decode("utf-8", "backslashreplace")
            bar.update(task, current=escape(name))
            outcome = ingest(path, sizes[path])
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
            bar.update(task, advance=sizes[path], done=done)
        bar.update(task, current="")
    return outcomes


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0
