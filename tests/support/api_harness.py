"""What the API test suites share: test users, a tiny corpus, the Api handle, a receiver.

Used by tests/integration/api, tests/reliability, tests/security and tests/fuzz; the pytest
fixtures that build apps from these pieces live in `tests.support.api_fixtures`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

import httpx
from fastapi import FastAPI

from api.deps import Services
from api.settings import Settings

JWT_SECRET = "integration-test-secret-" + "x" * 32
SERVICE_KEY = "rk_integration-service-key-0123456789abcdef"
ADMIN_KEY = "rk_integration-admin-key-0123456789abcdefgh"
PASSWORDS = {"admin": "admin-password-1", "alice": "alice-password-1", "ingester": "ingest-pw-1"}

CORPUS = [
    {
        "id": "kubernetes",
        "content": "Kubernetes schedules containers onto nodes. A Deployment keeps a set of "
        "identical pods running and replaces pods that fail.",
        "metadata": {"topic": "platform", "year": 2014},
    },
    {
        "id": "chroma",
        "content": "Chroma is a vector database. It stores embeddings and answers nearest "
        "neighbour queries with cosine similarity.",
        "metadata": {"topic": "storage", "year": 2022},
    },
    {
        "id": "bm25",
        "content": "BM25 is a lexical ranking function. It scores documents by term frequency "
        "and inverse document frequency with length normalisation.",
        "metadata": {"topic": "retrieval", "year": 1994},
    },
    {
        "id": "photosynthesis",
        "content": "Photosynthesis converts light energy into chemical energy. Plants take in "
        "carbon dioxide and water and release oxygen.",
        "metadata": {"topic": "biology", "year": 1800},
    },
]


@dataclass
class Api:
    """A running app and a client talking to it in process."""

    app: FastAPI
    client: httpx.AsyncClient
    settings: Settings

    @property
    def services(self) -> Services:
        services: Services = self.app.state.services
        return services

    def token(self, user: str, scopes: list[str]) -> dict[str, str]:
        """Authorization header with a token the app itself issued."""
        return {"Authorization": f"Bearer {self.services.tokens.issue(user, scopes)}"}

    @property
    def svc(self) -> dict[str, str]:
        return {"X-API-Key": SERVICE_KEY}

    @property
    def admin(self) -> dict[str, str]:
        return {"X-API-Key": ADMIN_KEY}

    async def ingest_corpus(self) -> None:
        response = await self.client.post(
            "/documents", json={"documents": CORPUS}, headers=self.svc
        )
        assert response.status_code == 201, response.text


ApiFactory = Callable[..., AbstractAsyncContextManager[Api]]


@dataclass
class Receiver:
    """A real HTTP server on loopback that records webhook deliveries."""

    url: str
    fail_first: int = 0
    status_when_failing: int = 503
    received: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    attempts: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    arrived: threading.Event = field(default_factory=threading.Event)
    #: Called (in the server's thread) with the attempt's number before each answer, for
    #: fault tests.
    before_answering: Callable[[int], None] | None = None
