"""Options that say which API to talk to and as whom, shared by the client commands."""

from __future__ import annotations

from typing import Annotated

import typer

from ragkube_cli import token_store
from ragkube_client import RagkubeClient

DEFAULT_URL = "http://127.0.0.1:8000"

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


def client_for(url: str, api_key: str | None, token: str | None) -> RagkubeClient:
    """A client for `url`: the API key, else the token, else the token saved by `login`."""
    if not api_key and not token:
        stored = token_store.load(url)
        token = stored.access_token if stored is not None else None
    return RagkubeClient(url, api_key=api_key or None, token=token or None)
