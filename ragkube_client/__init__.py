"""The ragkube Python SDK: sync and async clients for the ragkube API.

from ragkube_client import RagkubeClient

with RagkubeClient("http://localhost:8000", api_key="rk_...") as client:
    answer = client.query("What does a Deployment do?")
    print(answer.answer, [s.metadata.get("source") for s in answer.sources])
"""

from ragkube_client.async_client import AsyncRagkubeClient
from ragkube_client.errors import (
    ApiConnectionError,
    ApiTimeoutError,
    AuthenticationError,
    InvalidResponseError,
    NotFoundError,
    PermissionDeniedError,
    RagkubeError,
    RateLimitedError,
    ServerError,
    ValidationError,
)
from ragkube_client.models import (
    Document,
    DocumentDetail,
    DocumentIn,
    DocumentOriginal,
    DocumentPage,
    FinalEvent,
    IngestResponse,
    IngestResult,
    QueryResponse,
    Source,
    SourcesEvent,
    StreamEvent,
    Token,
    TokenEvent,
    Webhook,
    WebhookCreated,
)
from ragkube_client.retry import RetryPolicy
from ragkube_client.sync_client import RagkubeClient
from ragkube_client.webhook_signature import verify_webhook_signature

__all__ = [
    "ApiConnectionError",
    "ApiTimeoutError",
    "AsyncRagkubeClient",
    "AuthenticationError",
    "Document",
    "DocumentDetail",
    "DocumentIn",
    "DocumentOriginal",
    "DocumentPage",
    "FinalEvent",
    "IngestResponse",
    "IngestResult",
    "InvalidResponseError",
    "NotFoundError",
    "PermissionDeniedError",
    "QueryResponse",
    "RagkubeClient",
    "RagkubeError",
    "RateLimitedError",
    "RetryPolicy",
    "ServerError",
    "Source",
    "SourcesEvent",
    "StreamEvent",
    "Token",
    "TokenEvent",
    "ValidationError",
    "Webhook",
    "WebhookCreated",
    "verify_webhook_signature",
]
