"""How the CLI speaks: rich text for people, `--json` for machines, exit codes for scripts.

Exit codes: 0 success; 1 the operation failed (or partly failed: some files not ingested);
2 the command line was wrong (typer's usage errors). Errors go to standard error, so
standard output holds only the answer or the JSON document.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console

from ragkube_client import ApiConnectionError, RagkubeError

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2


def out() -> Console:
    """A console on standard output (built per call, so captured streams are honoured)."""
    return Console(file=sys.stdout, soft_wrap=False, highlight=False)


def err() -> Console:
    """A console on standard error, for progress and diagnostics."""
    return Console(file=sys.stderr, highlight=False)


def print_json(data: Any) -> None:
    """One JSON document on standard output."""
    sys.stdout.write(json.dumps(data, indent=2, default=str, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def fail(message: str, *, hint: str | None = None, code: int = EXIT_FAILURE) -> NoReturn:
    """Print `error: message` (and a hint) to standard error and exit with `code`."""
    console = err()
    console.print(f"[bold red]error:[/] {message}", markup=True, highlight=False)
    if hint:
        console.print(f"[dim]{hint}[/]")
    raise typer.Exit(code)


@contextmanager
def reported_errors(url: str) -> Iterator[None]:
    """Turn SDK errors into one readable line and exit code 1."""
    try:
        yield
    except ApiConnectionError as exc:
        fail(
            f"cannot reach the ragkube API at {url}",
            hint="Start one with `ragkube serve`, or pass --url / set RAGKUBE_URL.",
        )
        raise AssertionError("unreachable") from exc
    except RagkubeError as exc:
        suffix = f" (request id {exc.request_id})" if exc.request_id else ""
        hint = None
        if exc.status_code == 401:
            hint = "Log in with `ragkube login`, or pass --api-key / --token."
        fail(f"{exc.message}{suffix}", hint=hint)
