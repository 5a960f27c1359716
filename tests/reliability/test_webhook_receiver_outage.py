"""A webhook receiver that goes away for a while, then comes back on the same address.

Every event is delivered exactly once to a receiver that de-duplicates by the
X-Webhook-Delivery id (at-least-once on the wire), every signature verifies, and the
receiver can restore the order events happened in from `created_at`: delivery order
itself is not guaranteed (retries and parallel deliveries overtake each other).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from api.webhooks import verify_signature
from tests.support.api_harness import ApiFactory
from tests.support.load import wait_for
from tests.support.services import free_port


@dataclass
class DedupingReceiver:
    """A receiver that handles each delivery id once, and can be taken down and back up."""

    port: int
    secret: str = ""
    wire_attempts: int = 0
    handled: dict[str, dict[str, Any]] = field(default_factory=dict)
    bad_signatures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        state = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with state.lock:
                    state.wire_attempts += 1
                    valid = verify_signature(
                        state.secret,
                        self.headers["X-Webhook-Timestamp"],
                        self.headers["X-Webhook-Signature"],
                        body,
                    )
                    if not valid:
                        state.bad_signatures += 1
                    else:
                        # The de-duplicating handler: a repeated delivery id is a no-op.
                        state.handled.setdefault(
                            self.headers["X-Webhook-Delivery"], json.loads(body)
                        )
                self.send_response(204 if valid else 401)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        ThreadingHTTPServer.allow_reuse_address = True
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def down(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def deduping_receiver() -> Iterator[DedupingReceiver]:
    receiver = DedupingReceiver(free_port())
    receiver.up()
    yield receiver
    receiver.down()


async def test_every_event_is_delivered_once_after_the_receiver_comes_back(
    make_api: ApiFactory, deduping_receiver: DedupingReceiver
) -> None:
    receiver = deduping_receiver
    async with make_api(
        webhook_max_attempts=40,
        webhook_backoff_base_seconds=0.05,
        webhook_backoff_max_seconds=0.5,
    ) as api:
        hook = await api.client.post(
            "/webhooks",
            json={"url": receiver.url, "events": ["document.ingested", "query.completed"]},
            headers=api.admin,
        )
        receiver.secret = hook.json()["secret"]

        async def ingest(ids: list[str]) -> None:
            documents = [{"id": i, "content": f"Document {i} about rivers."} for i in ids]
            response = await api.client.post(
                "/documents", json={"documents": documents}, headers=api.svc
            )
            assert response.status_code == 201

        await ingest(["up-1", "up-2"])
        await wait_for(lambda: len(receiver.handled) == 2, 15, "deliveries while up")

        receiver.down()
        down_ids = [f"down-{i}" for i in range(10)]
        await ingest(down_ids)
        for n in range(5):
            answer = await api.client.post(
                "/query", json={"query": f"Which rivers? ({n})"}, headers=api.svc
            )
            assert answer.status_code == 200
        retried = api.services.metrics.webhook_deliveries.labels("document.ingested", "retried")
        await wait_for(lambda: retried._value.get() >= 10, 15, "failed attempts while down")
        await asyncio.sleep(1.0)
        receiver.up()

        expected = 2 + len(down_ids) + 5
        await wait_for(lambda: len(receiver.handled) == expected, 30, "every event delivered")
        await asyncio.sleep(1.0)  # nothing else turns up late
        assert len(receiver.handled) == expected
        assert receiver.bad_signatures == 0
        assert receiver.wire_attempts >= expected
        assert await api.services.webhooks.queue.pending() == 0

        payloads = list(receiver.handled.values())
        documents = [
            p["data"]["document_id"] for p in payloads if p["event"] == "document.ingested"
        ]
        assert sorted(documents) == sorted(["up-1", "up-2", *down_ids])  # each exactly once
        queries = [p for p in payloads if p["event"] == "query.completed"]
        assert len(queries) == 5
        # Order: restored from created_at, which is fixed when the event happens.
        by_time = sorted(
            (p for p in payloads if p["event"] == "document.ingested"),
            key=lambda p: p["created_at"],
        )
        assert [p["data"]["document_id"] for p in by_time] == ["up-1", "up-2", *down_ids]
