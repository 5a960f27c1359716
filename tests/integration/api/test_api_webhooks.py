"""Webhooks: registration, signed delivery to a real receiver, retries, restarts, SSRF."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from api.webhooks import verify_signature
from tests.support.api_harness import Api, ApiFactory, Receiver


async def wait_for(predicate: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


async def register(api: Api, url: str, events: list[str]) -> dict[str, str]:
    response = await api.client.post(
        "/webhooks", json={"url": url, "events": events}, headers=api.admin
    )
    assert response.status_code == 201, response.text
    body: dict[str, str] = response.json()
    return body


async def test_query_event_is_delivered_signed_to_the_receiver(
    api: Api, receiver: Receiver
) -> None:
    hook = await register(api, receiver.url, ["query.completed"])
    assert len(hook["secret"]) >= 32
    await api.ingest_corpus()
    await api.client.post("/query", json={"query": "What is Chroma?"}, headers=api.svc)
    await wait_for(lambda: receiver.received)
    headers, body = receiver.received[0]
    assert verify_signature(
        hook["secret"], headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], body
    )
    assert not verify_signature(
        "wrong" * 8, headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], body
    )
    payload = json.loads(body)
    assert payload["event"] == "query.completed"
    assert payload["id"] == headers["X-Webhook-Delivery"]
    assert payload["data"]["query"] == "What is Chroma?"


async def test_document_events_are_delivered(api: Api, receiver: Receiver) -> None:
    await register(api, receiver.url, ["document.ingested", "document.deleted"])
    await api.ingest_corpus()
    await api.client.delete("/documents/bm25", headers=api.svc)
    await wait_for(lambda: len(receiver.received) == 5)
    events = sorted(json.loads(body)["event"] for _, body in receiver.received)
    assert events == ["document.deleted"] + ["document.ingested"] * 4


async def test_failed_deliveries_are_retried_until_the_receiver_recovers(
    api: Api, receiver: Receiver
) -> None:
    receiver.fail_first = 3
    await register(api, receiver.url, ["query.completed"])
    await api.client.post("/query", json={"query": "anything at all"}, headers=api.svc)
    await wait_for(lambda: receiver.received)
    assert receiver.attempts == 4
    deliveries = api.services.metrics.webhook_deliveries
    assert deliveries.labels("query.completed", "retried")._value.get() == 3
    assert deliveries.labels("query.completed", "delivered")._value.get() == 1


async def test_deliveries_are_dropped_after_the_retry_budget(
    make_api: ApiFactory, receiver: Receiver
) -> None:
    receiver.fail_first = 100
    async with make_api(webhook_max_attempts=2) as api:
        await register(api, receiver.url, ["query.completed"])
        await api.client.post("/query", json={"query": "anything at all"}, headers=api.svc)
        dropped = api.services.metrics.webhook_deliveries.labels("query.completed", "dropped")
        await wait_for(lambda: dropped._value.get() == 1)
        assert receiver.attempts == 2
        assert await api.services.webhooks.queue.pending() == 0


async def test_a_pending_delivery_survives_an_api_restart(
    make_api: ApiFactory, receiver: Receiver
) -> None:
    receiver.fail_first = 1
    # The first attempt fails; its retry is due after the first app has stopped.
    async with make_api(webhook_backoff_base_seconds=2.0) as first:
        await register(first, receiver.url, ["query.completed"])
        await first.client.post("/query", json={"query": "anything at all"}, headers=first.svc)
        await wait_for(lambda: receiver.attempts == 1)
        assert await first.services.webhooks.queue.pending() == 1
    assert receiver.received == []
    async with make_api(webhook_backoff_base_seconds=2.0) as second:
        await wait_for(lambda: receiver.received, timeout=10)
        assert await second.services.webhooks.queue.pending() == 0
    assert json.loads(receiver.received[0][1])["event"] == "query.completed"


async def test_ssrf_targets_are_refused_at_registration(make_api: ApiFactory) -> None:
    async with make_api(webhook_allowlist=[]) as api:
        for url in (
            "http://127.0.0.1:8080/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.5/hook",
            "http://localhost/hook",
        ):
            response = await api.client.post(
                "/webhooks", json={"url": url, "events": ["query.completed"]}, headers=api.admin
            )
            assert response.status_code == 422, url
            assert response.json()["error"] == "unsafe_webhook_url"


async def test_ssrf_is_rechecked_at_delivery_time(make_api: ApiFactory, receiver: Receiver) -> None:
    async with make_api() as first:
        await register(first, receiver.url, ["query.completed"])
    # Restarted without the allow-list entry: the registered URL must now be refused.
    async with make_api(webhook_allowlist=[]) as api:
        await api.client.post("/query", json={"query": "anything at all"}, headers=api.svc)
        refused = api.services.metrics.webhook_deliveries.labels("query.completed", "refused")
        await wait_for(lambda: refused._value.get() == 1)
        assert receiver.attempts == 0


async def test_webhook_registry_crud_and_validation(api: Api, receiver: Receiver) -> None:
    hook = await register(api, receiver.url, ["query.completed", "document.deleted"])
    listed = (await api.client.get("/webhooks", headers=api.admin)).json()
    assert [h["id"] for h in listed] == [hook["id"]]
    assert "secret" not in listed[0]
    bad = await api.client.post(
        "/webhooks", json={"url": receiver.url, "events": ["nope"]}, headers=api.admin
    )
    assert bad.status_code == 422
    assert (
        await api.client.delete(f"/webhooks/{hook['id']}", headers=api.admin)
    ).status_code == 204
    assert (
        await api.client.delete(f"/webhooks/{hook['id']}", headers=api.admin)
    ).status_code == 404
    no_admin = await api.client.post(
        "/webhooks", json={"url": receiver.url, "events": ["query.completed"]}, headers=api.svc
    )
    assert no_admin.status_code == 403


async def test_operator_file_is_hot_reloaded_and_read_only(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path
) -> None:
    path = tmp_path / "webhooks.json"
    async with make_api(webhooks_file=path) as api:
        assert (await api.client.get("/webhooks", headers=api.admin)).json() == []
        secret = "operator-secret-0123456789abcdef"
        path.write_text(
            json.dumps(
                {
                    "webhooks": [
                        {
                            "name": "team-a/audit",
                            "url": receiver.url,
                            "events": ["query.completed"],
                            "secret": secret,
                        }
                    ]
                }
            )
        )
        listed = (await api.client.get("/webhooks", headers=api.admin)).json()
        assert [(h["id"], h["source"]) for h in listed] == [("operator:team-a:audit", "operator")]
        conflict = await api.client.delete("/webhooks/operator:team-a:audit", headers=api.admin)
        assert conflict.status_code == 409
        await api.client.post("/query", json={"query": "anything at all"}, headers=api.svc)
        await wait_for(lambda: receiver.received)
        headers, body = receiver.received[0]
        assert verify_signature(
            secret, headers["X-Webhook-Timestamp"], headers["X-Webhook-Signature"], body
        )
