"""structlog set-up: JSON lines in production, a console renderer in development.

Every line carries the request id of the request it belongs to (bound in a context
variable by the request middleware). Secrets never reach a line: values under sensitive
keys are replaced, and anything shaped like a JWT, an API key or a bearer credential is
masked wherever it appears. Queries are truncated before they are logged.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

REDACTED = "[redacted]"
QUERY_LOG_CHARS = 80

_SENSITIVE_KEY = re.compile(
    r"pass(word)?|secret|token|authorization|api[_-]?key|cookie|credential|dsn|redis_url",
    re.IGNORECASE,
)
#: Linear in the text's length: a JWT starts only where a word starts ("eyJ" * n had made
#: every "eyJ" rescan the rest), and a Redis URL's password is bounded (an unbounded one
#: made "redis://" + ":" * n quadratic).
_SECRET_VALUE = re.compile(
    r"(?<![A-Za-z0-9_\-])eyJ[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]*"  # JWT
    r"|rk_[A-Za-z0-9_\-]{16,}"  # our API keys
    r"|(?i:bearer)\s+[A-Za-z0-9._~+/=\-]+"  # any bearer credential
    r"|rediss?://[^\s@:]{0,256}:[^\s@]{0,1024}@"  # credentials inside a Redis URL
)


def truncate(text: str, limit: int = QUERY_LOG_CHARS) -> str:
    """`text` cut to `limit` characters, marked when cut (queries can be long or personal)."""
    return text if len(text) <= limit else text[:limit] + "…"


def _scrub(value: Any) -> Any:
    if isinstance(value, str):
        return _SECRET_VALUE.sub(REDACTED, value)
    if isinstance(value, dict):
        return {
            k: REDACTED if _SENSITIVE_KEY.search(str(k)) else _scrub(v) for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [_scrub(v) for v in value]
    return value


def redact_secrets(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets by key name and by shape."""
    for key in list(event_dict):
        if key == "event":
            event_dict[key] = _scrub(event_dict[key])
        elif _SENSITIVE_KEY.search(key):
            event_dict[key] = REDACTED
        else:
            event_dict[key] = _scrub(event_dict[key])
    return event_dict


def configure_logging(level: str, fmt: str) -> None:
    """Configure structlog (and the standard library's root logger) for this process.

    structlog's configuration is process-wide; it is applied when an app is created, never
    at import time.
    """
    numeric = logging.getLevelName(level.upper())
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        redact_secrets,
        structlog.processors.format_exc_info,
        renderer,
    ]
    structlog.configure(
        processors=processors,
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=_StdoutLoggerFactory(),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=numeric, stream=sys.stdout, format="%(message)s", force=True)
    # httpx logs every request URL at INFO (each Chroma call, each webhook URL): too chatty
    # for one-line-per-request logs, and a URL may carry a credential.
    for noisy in ("httpx", "httpcore", "chromadb"):
        logging.getLogger(noisy).setLevel(max(numeric, logging.WARNING))


class _StdoutLoggerFactory:
    """Writes to whatever `sys.stdout` is at the time of the call (pytest swaps it)."""

    def __call__(self, *args: Any) -> Any:
        return structlog.PrintLogger(sys.stdout)
