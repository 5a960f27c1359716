"""Options that say which API to talk to and as whom, shared by the client commands."""

from __future__ import annotations

from typing import Annotated

import typer

from ragkube_cli import token_store
from ragkube_cli.output import EXIT_USAGE, fail
from ragkube_client import RagkubeClient

DEFAULT_URL = "http://127.0.0.1:8000"
DEFAULT_TIMEOUT = 60.0

UrlOption = Annotated[
    str,
    typer.Option("--url", envvar="RAGKUBE_URL", help="Base URL of the ragkube API."),
]
ApiKeyOption = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="RAGKUBE_API_KEY",
        help="API key (sent as X-API-Key).",
        show_default=False,
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="RAGKUBE_TOKEN",
        help="Bearer token; default: the one `ragkube login` saved for this URL.",
        show_default=False,
    ),
]


TimeoutOption = Annotated[
    float,
    typer.Option(
        "--timeout",
        envvar="RAGKUBE_TIMEOUT",
        min=0.1,
        help="Seconds to wait for the API before giving up.",
    ),
]


def client_for(
    url: str,
    api_key: str | None,
    token: str | None,
    timeout: float = DEFAULT_TIMEOUT,
    *,
    use_saved_token: bool = True,
) -> RagkubeClient:
    """A client for `url`: the API key, else the token, else the token saved by `login`.

    A URL or credential the client refuses (no scheme, a newline in a key) is a usage
    error: it exits 2 with one line saying what is wrong, never quoting the credential.
    """
    if use_saved_token and not api_key and not token:
        stored = token_store.load(url)
        token = stored.access_token if stored is not None else None
    try:
        return RagkubeClient(url, api_key=api_key or None, token=token or None, timeout=timeout)
    except ValueError as exc:
        fail(str(exc), hint="Check --url, --api-key and --token.", code=EXIT_USAGE)
