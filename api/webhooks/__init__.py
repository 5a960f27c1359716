"""Webhooks: registry, SSRF guard, signing, durable delivery queue and the dispatcher."""

from api.webhooks.dispatcher import RetryPolicy, WebhookDispatcher
from api.webhooks.registry import EVENTS, Webhook, WebhookRegistry
from api.webhooks.signing import sign, verify_signature
from api.webhooks.url_guard import PinnedBackend, PinnedTransport, UnsafeWebhookURL, URLGuard

__all__ = [
    "EVENTS",
    "PinnedBackend",
    "PinnedTransport",
    "RetryPolicy",
    "URLGuard",
    "UnsafeWebhookURL",
    "Webhook",
    "WebhookDispatcher",
    "WebhookRegistry",
    "sign",
    "verify_signature",
]
