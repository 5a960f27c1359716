"""Verifying a webhook delivery's signature on the receiving side.

Each delivery carries `X-Webhook-Timestamp` (Unix seconds) and `X-Webhook-Signature:
sha256=<hex>`, the HMAC-SHA256 of `f"{timestamp}.{raw_body}"` under the webhook's secret.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"


def verify_webhook_signature(
    secret: str,
    timestamp: str,
    signature: str,
    body: bytes,
    *,
    tolerance_seconds: int = 300,
    now: float | None = None,
) -> bool:
    """True when `signature` signs exactly `body` at `timestamp`, and that time is recent.

    Pass the raw request body (before any JSON parsing) and the two headers' values. The
    tolerance refuses replays of captured deliveries.
    """
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_seconds:
        return False
    message = str(sent_at).encode() + b"." + body
    expected = "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)
