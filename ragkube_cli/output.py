"""How the CLI speaks: rich text for people, `--json` for machines, exit codes for scripts.

Exit codes: 0 success; 1 the operation failed (or partly failed: some files not ingested);
2 the command line was wrong (typer's usage errors). Errors go to standard error, so
standard output holds only the answer or the JSON document.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from ragkube_client import ApiConnectionError, ApiTimeoutError, RagkubeError
from ragkube_client.responses import safe_url

#: C0 and C1 control characters but tab and newline: a hostile server could otherwise move
#: the cursor, rewrite earlier lines or retitle the terminal through an answer or a message.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

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


def terminal_safe(text: str) -> str:
    """`text` without control characters (tab and newline kept), safe to print."""
    return _CONTROL.sub("", text)


def one_line(text: str, secrets: Iterable[str | None] = ()) -> str:
    """`text` on one line, without control characters, with every secret masked.

    Messages come from the server or whatever answered in its place, which may echo a
    request's headers back; the API key or token must still not reach the terminal.
    """
    flat = " ".join(terminal_safe(text).split())
    for secret in secrets:
        if secret and secret.strip():
            flat = flat.replace(secret.strip(), "***")
    return flat


def fail(message: str, *, hint: str | None = None, code: int = EXIT_FAILURE) -> NoReturn:
    """Print `error: message` (and a hint) to standard error and exit with `code`.

    The message is printed as plain text: it often quotes the server, and square brackets
    in it must not be read as rich markup (an unmatched `[/]` would crash the CLI).
    """
    console = err()
    # soft_wrap: one line even when standard error is a file or a pipe, for log scrapers.
    console.print(
        f"[bold red]error:[/] {escape(one_line(message))}",
        markup=True,
        highlight=False,
        soft_wrap=True,
    )
    if hint:
        console.print(f"[dim]{escape(hint)}[/]", soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def reported_errors(url: str, secrets: Iterable[str | None] = ()) -> Iterator[None]:
    """Turn SDK errors into one readable line and exit code 1; `secrets` are masked."""
    hidden = list(secrets)
    try:
        yield
    except ApiTimeoutError as exc:
        fail(
            one_line(exc.message, hidden),
            hint="The server may be overloaded; pass --timeout (or set RAGKUBE_TIMEOUT) "
            "to wait longer.",
        )
    except ApiConnectionError as exc:
        message = one_line(exc.message, hidden)
        unreachable = message.startswith("cannot reach")
        fail(
            message,
            hint="Start one with `ragkube serve`, or pass --url / set RAGKUBE_URL."
            if unreachable
            else f"Check the connection to {safe_url(url)} and try again.",
        )
    except RagkubeError as exc:
        suffix = f" (request id {exc.request_id})" if exc.request_id else ""
        hint = None
        if exc.status_code == 401:
            hint = "Log in with `ragkube login`, or pass --api-key / --token."
        fail(f"{one_line(exc.message, hidden)}{suffix}", hint=hint)
