"""Fixtures for the API against real Redis, a real Chroma server and the real model.

Imported by the conftest.py of each API test suite (integration, reliability, security, fuzz).

Each test gets apps of its own: a fresh Chroma collection and Redis key prefix, so tests
never see each other's documents, limits or webhooks. The model is loaded once per process
by rag_core, so building an app per test is cheap after the first.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.auth import hash_api_key, hash_password
from api.settings import Settings
from tests.support.api_harness import (
    ADMIN_KEY,
    JWT_SECRET,
    PASSWORDS,
    SERVICE_KEY,
    Api,
    ApiFactory,
    Receiver,
)


@pytest.fixture(scope="session")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three users and two API keys, with the scopes their names suggest."""
    path = tmp_path_factory.mktemp("users") / "users.json"
    scopes = {"admin": ["admin"], "alice": ["query"], "ingester": ["ingest"]}
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "username": name,
                        "password_hash": hash_password(PASSWORDS[name], rounds=4),
                        "scopes": scopes[name],
                    }
                    for name in PASSWORDS
                ],
                "api_keys": [
                    {
                        "name": "svc",
                        "key_sha256": hash_api_key(SERVICE_KEY),
                        "scopes": ["query", "ingest"],
                    },
                    {"name": "ops", "key_sha256": hash_api_key(ADMIN_KEY), "scopes": ["admin"]},
                ],
            }
        )
    )
    return path


@pytest.fixture
def settings_for(
    tmp_path: Path, users_file: Path, chroma_server: Any, index_server: Any, redis_url: str
) -> Callable[..., Settings]:
    """Settings of a test app: its own collection and Redis prefix, overridable per test.

    The storage tier is laid out as in a cluster: a Chroma server and a lexical index server
    shared by every app, each test in its own collection.
    """
    collection = f"t{uuid.uuid4().hex[:12]}"
    prefix = f"test:{uuid.uuid4().hex[:12]}"

    def build(**overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "ragkube_env": "development",
            "data_dir": tmp_path / "data",
            "chroma_host": chroma_server.host,
            "chroma_port": chroma_server.port,
            "chroma_collection_name": collection,
            "lexical_index_url": index_server.url,
            "lexical_index_token": index_server.token,
            "jwt_secret_key": JWT_SECRET,
            "users_file": users_file,
            "redis_url": redis_url,
            "redis_key_prefix": prefix,
            "rate_limit_requests": 1000,
            "webhook_allowlist": ["127.0.0.1/32"],
            "webhook_backoff_base_seconds": 0.05,
            "webhook_poll_seconds": 0.05,
            "webhook_timeout_seconds": 2.0,
            "log_format": "json",
            "retrieval_threshold": 0.0,
        }
        values.update(overrides)
        return Settings(**values)

    return build


@pytest.fixture
def make_api(settings_for: Callable[..., Settings]) -> ApiFactory:
    """`async with make_api(**overrides) as api:` runs an app's lifespan around a client."""

    @asynccontextmanager
    async def factory(**overrides: Any) -> AsyncIterator[Api]:
        settings = settings_for(**overrides)
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
                yield Api(app, client, settings)

    return factory


@pytest.fixture
async def api(make_api: ApiFactory) -> AsyncIterator[Api]:
    """One app with default test settings."""
    async with make_api() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    """A webhook receiver on 127.0.0.1 (allow-listed in the test settings)."""
    state = Receiver(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            with state.lock:
                state.attempts += 1
                attempt = state.attempts
                failing = attempt <= state.fail_first
                if not failing:
                    state.received.append((dict(self.headers.items()), body))
                    state.arrived.set()
            if state.before_answering is not None:
                state.before_answering(attempt)
            self.send_response(state.status_when_failing if failing else 204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_port}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()
