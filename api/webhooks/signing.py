"""HMAC-SHA256 signatures of webhook deliveries, and how a receiver verifies them.

Each delivery carries two headers:

    X-Webhook-Timestamp: 1718000000            (Unix seconds when the attempt was signed)
    X-Webhook-Signature: sha256=<hex digest>

where the digest is HMAC-SHA256(secret, f"{timestamp}.{raw_body}"). A receiver verifies by
recomputing the digest over the exact bytes it received, comparing in constant time, and
refusing timestamps older than a few minutes (which stops replays of captured deliveries).
`verify_signature` below is that procedure; receivers in Python may copy it.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Webhook-Signature"
TIMESTAMP_HEADER = "X-Webhook-Timestamp"
EVENT_HEADER = "X-Webhook-Event"
DELIVERY_HEADER = "X-Webhook-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The X-Webhook-Signature value for `body` sent at `timestamp`."""
    message = str(timestamp).encode() + b"." + body
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def verify_signature(
    secret: str,
    timestamp_header: str,
    signature_header: str,
    body: bytes,
    *,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> bool:
    """True when the signature matches the body and the timestamp is recent enough."""
    try:
        timestamp = int(timestamp_header)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature_header)
