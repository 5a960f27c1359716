"""When to retry a refused request, and how long to wait first.

429 (rate limited) and 503 (a dependency is briefly unavailable) are worth retrying; the
server says how long to wait in `Retry-After`, which is honoured — but only up to
`max_wait_seconds`, because a client that sleeps for minutes inside a call looks hung. A
wait longer than that raises at once with `retry_after` set, so the caller can decide.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

#: delta-seconds (RFC 9110 allows digits only; a fraction is tolerated).
_DELTA_SECONDS = re.compile(r"[0-9]+(\.[0-9]+)?")


def parse_retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After value (delta-seconds or an HTTP date).

    None for anything else: a negative number, "nan", "inf" or prose are not waits, and
    treating them as 0 would retry at once, hammering a server that asked for a pause.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _DELTA_SECONDS.fullmatch(text):
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    current = now or dt.datetime.now(dt.UTC)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries of 429 and 503 answers.

    `max_retries` extra attempts at most; each waits `Retry-After` when the server sent one,
    otherwise `backoff_seconds * 2**attempt`. `RetryPolicy(max_retries=0)` never retries.
    """

    max_retries: int = 3
    max_wait_seconds: float = 30.0
    backoff_seconds: float = 0.5
    statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 503}))

    def delay(self, attempt: int, status_code: int, headers: Mapping[str, str]) -> float | None:
        """Seconds to wait before retry number `attempt + 1`, or None to give up now."""
        if status_code not in self.statuses or attempt >= self.max_retries:
            return None
        retry_after = parse_retry_after(headers.get("retry-after"))
        wait = retry_after if retry_after is not None else self.backoff_seconds * 2**attempt
        if wait > self.max_wait_seconds:
            return None
        return wait
