"""Tokens from `ragkube login`, kept per API URL in a file only the user can read.

The file is `$RAGKUBE_CONFIG_DIR/credentials.json` (default `~/.config/ragkube`). It holds
access tokens, never passwords; an expired token is treated as absent.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StoredToken:
    """A saved access token and when it stops working (Unix seconds)."""

    url: str
    access_token: str
    expires_at: float
    scopes: tuple[str, ...]


def config_dir() -> Path:
    """Where the CLI keeps its files."""
    configured = os.environ.get("RAGKUBE_CONFIG_DIR")
    return Path(configured) if configured else Path.home() / ".config" / "ragkube"


def credentials_path() -> Path:
    """The token file."""
    return config_dir() / "credentials.json"


def _normalise(url: str) -> str:
    return url.rstrip("/")


def _read_all() -> dict[str, dict[str, object]]:
    path = credentials_path()
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def save(url: str, access_token: str, expires_in: int, scopes: list[str]) -> StoredToken:
    """Remember a token for `url` (the file is created with mode 0600)."""
    stored = StoredToken(_normalise(url), access_token, time.time() + expires_in, tuple(scopes))
    data = _read_all()
    data[stored.url] = {
        "access_token": stored.access_token,
        "expires_at": stored.expires_at,
        "scopes": list(stored.scopes),
    }
    path = credentials_path()
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(data, handle, indent=2)
    temporary.replace(path)
    return stored


def load(url: str, now: float | None = None) -> StoredToken | None:
    """The unexpired token saved for `url`, if any."""
    entry = _read_all().get(_normalise(url))
    if not isinstance(entry, dict):
        return None
    token, expires_at = entry.get("access_token"), entry.get("expires_at")
    if not isinstance(token, str) or not isinstance(expires_at, int | float):
        return None
    if expires_at <= (time.time() if now is None else now):
        return None
    scopes = entry.get("scopes")
    return StoredToken(
        _normalise(url),
        token,
        float(expires_at),
        tuple(str(s) for s in scopes) if isinstance(scopes, list) else (),
    )
