"""Redis stopped under load, then restarted: the API follows RATE_LIMIT_ON_REDIS_ERROR,
answers nothing undocumented, recovers without a restart, and loses no webhook event.

Documented behaviour while Redis is down:
- `open` (default): requests are admitted without a limit; queries and ingestion succeed;
  webhook events are held in memory and queued when Redis is back.
- `closed`: every rate-limited route answers 503 `rate_limiter_unavailable`.
- Queries that carry a `conversation_id` are answered without their history (the
  conversation memory lives in Redis; rag_core logs a warning and does not keep the turn).
- Either way /health and /ready answer 200 (probes are never rate limited, and Redis is not
  a readiness dependency), so Kubernetes does not restart or unroute healthy pods.
"""

from __future__ import annotations

import asyncio
import json
import signal
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from api.webhooks import verify_signature
from api.webhooks.delivery_queue import DeliveryJob, RedisDeliveryQueue
from rag_core.conversation import RedisMemory
from rag_core.redis_client import redis_client
from tests.support.api_harness import Api, ApiFactory, Receiver
from tests.support.load import Load, wait_for
from tests.support.services import RedisServer, redis_server

OUTAGE_SECONDS = 3.0
#: How long a request may take while Redis hangs (accepts connections, never answers).
HUNG_BOUND_SECONDS = 15.0


def _stop_at(redis: RedisServer, attempt: int) -> Callable[[int], None]:
    """A receiver hook that stops Redis just before answering the given attempt."""

    def hook(number: int) -> None:
        if number == attempt:
            redis.stop()

    return hook


async def _announce(api: Api, receiver: Receiver, document_id: str, content: str) -> None:
    """Subscribe the receiver to document.ingested, then ingest one document."""
    subscribed = await api.client.post(
        "/webhooks",
        json={"url": receiver.url, "events": ["document.ingested"]},
        headers=api.admin,
    )
    assert subscribed.status_code == 201, subscribed.text
    response = await api.client.post(
        "/documents",
        json={"documents": [{"id": document_id, "content": content}]},
        headers=api.svc,
    )
    assert response.status_code == 201, response.text


async def _drained(api: Api) -> bool:
    for _ in range(100):
        if await api.services.webhooks.queue.pending() == 0:
            return True
        await asyncio.sleep(0.1)
    return False


def _action(api: Api, ingested: set[str]):  # type: ignore[no-untyped-def]
    async def act(worker: int, n: int) -> tuple[str, httpx.Response]:
        if n % 2:
            response = await api.client.post(
                "/query", json={"query": f"What does Kubernetes do? ({n})"}, headers=api.svc
            )
            return "/query", response
        document_id = f"w{worker}-n{n}"
        response = await api.client.post(
            "/documents",
            json={"documents": [{"id": document_id, "content": f"Load document {n} of {worker}."}]},
            headers=api.svc,
        )
        if response.status_code == 201:
            ingested.add(document_id)
        return "/documents", response

    return act


@pytest.mark.parametrize("policy", ["open", "closed"])
async def test_redis_outage_under_load(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path, policy: str
) -> None:
    with redis_server(tmp_path) as redis:
        async with make_api(
            redis_url=redis.url,
            rate_limit_on_redis_error=policy,
            webhook_max_attempts=50,
            webhook_backoff_max_seconds=0.5,
        ) as api:
            registered = await api.client.post(
                "/webhooks",
                json={"url": receiver.url, "events": ["document.ingested"]},
                headers=api.admin,
            )
            secret = registered.json()["secret"]
            ingested: set[str] = set()
            load = Load(_action(api, ingested), workers=3)
            load.start()
            try:
                await load.until_healthy(successes=3, timeout=30)
                redis.stop()
                load.phase = "outage"
                await asyncio.sleep(OUTAGE_SECONDS)
                probes = [
                    (await api.client.get(path)).status_code for path in ("/health", "/ready")
                ]
                # Conversation memory lives in Redis: such a query is answered without it.
                conversation = await api.client.post(
                    "/query",
                    json={"query": "What does Kubernetes do?", "conversation_id": "c-1"},
                    headers=api.svc,
                )
                redis.restart()
                load.phase = "after"
                recovery = await load.until_healthy(successes=10, timeout=30)
            finally:
                await load.stop()

            assert probes == [200, 200]
            if policy == "open":
                assert conversation.status_code == 200, conversation.text
                assert conversation.json()["sources"]
            else:
                assert conversation.status_code == 503, conversation.text
                assert conversation.json()["error"] == "rate_limiter_unavailable"
            for phase in ("before", "after"):
                assert load.during(phase), phase
            outage = load.during("outage")
            assert len(outage) >= 5  # the load really ran through the outage
            assert {o.status for o in load.during("before")} <= {200, 201}
            if policy == "open":
                assert {o.status for o in outage} <= {200, 201}, outage
            else:
                unexpected = [o for o in outage if o.error != "rate_limiter_unavailable"]
                # A call that started just before the stop may still have succeeded.
                assert all(o.status in (200, 201) for o in unexpected), unexpected
                assert any(o.status == 503 for o in outage)
            assert all(o.seconds < 10 for o in load.outcomes)  # nothing hung
            assert recovery < 30

            # Every document ingested (before, during and after) is announced exactly once.
            def delivered() -> dict[str, list[str]]:
                by_delivery: dict[str, dict[str, object]] = {}
                for headers, body in list(receiver.received):
                    assert verify_signature(
                        secret,
                        headers["X-Webhook-Timestamp"],
                        headers["X-Webhook-Signature"],
                        body,
                    )
                    by_delivery[headers["X-Webhook-Delivery"]] = json.loads(body)
                documents: dict[str, list[str]] = {}
                for delivery_id, payload in by_delivery.items():
                    data = payload["data"]
                    assert isinstance(data, dict)
                    documents.setdefault(str(data["document_id"]), []).append(delivery_id)
                return documents

            await wait_for(
                lambda: ingested <= set(delivered()), 30, "every ingested document announced"
            )
            assert all(len(ids) == 1 for ids in delivered().values())
            assert api.services.webhooks.held_events == 0


async def test_the_first_commands_after_a_redis_restart_succeed(tmp_path: Path) -> None:
    # Every pooled connection is stale after a restart. A command that failed on one had left
    # a webhook job it had just claimed hidden for its whole lease (tens of seconds).
    with redis_server(tmp_path) as redis:
        client = redis_client(redis.url)
        queue = RedisDeliveryQueue(client, "restart")
        memory = RedisMemory(redis.url)
        await queue.push(DeliveryJob("d-1", "hook", "document.ingested", "{}"), 0.0)
        await memory.remember("c-1", "question?", "answer.")
        # Several pooled connections, all opened before the restart.
        await asyncio.gather(*(client.ping() for _ in range(4)))
        redis.stop()
        redis.restart()
        try:
            claimed = await queue.claim(1.0, 30.0, 10)
            assert [job.id for job in claimed] == ["d-1"]
            await asyncio.gather(*(queue.complete(job.id) for job in claimed), client.ping())
            assert await queue.pending() == 0
            assert await memory.history("c-1") == [("question?", "answer.")]
        finally:
            await client.aclose()
            await memory.aclose()


@pytest.mark.parametrize("policy", ["open", "closed"])
async def test_a_hung_redis_server_fails_requests_within_a_bound(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path, policy: str
) -> None:
    with redis_server(tmp_path) as redis:
        async with make_api(redis_url=redis.url, rate_limit_on_redis_error=policy) as api:
            await api.client.post(
                "/webhooks",
                json={"url": receiver.url, "events": ["document.ingested"]},
                headers=api.admin,
            )
            redis.process.send_signal(signal.SIGSTOP)
            try:
                query = await asyncio.wait_for(
                    api.client.post(
                        "/query", json={"query": "What does Kubernetes do?"}, headers=api.svc
                    ),
                    HUNG_BOUND_SECONDS,
                )
                ingest = await asyncio.wait_for(
                    api.client.post(
                        "/documents",
                        json={"documents": [{"id": "hung", "content": "Written while hung."}]},
                        headers=api.svc,
                    ),
                    HUNG_BOUND_SECONDS,
                )
            finally:
                redis.process.send_signal(signal.SIGCONT)
            if policy == "open":
                assert query.status_code == 200, query.text
                assert ingest.status_code == 201, ingest.text
            else:
                assert query.status_code == 503, query.text
                assert query.json()["error"] == "rate_limiter_unavailable"
                assert ingest.status_code == 503, ingest.text


async def test_a_delivery_cut_off_by_a_redis_stop_resumes_when_redis_returns(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path
) -> None:
    # The first attempt fails, and Redis stops before the worker can schedule the retry: the
    # job stays leased in Redis (webhook timeout + 30 s = 40 s here). It must be retried as
    # soon as Redis is back, not when that lease ends.
    with redis_server(tmp_path) as redis:
        async with make_api(redis_url=redis.url, webhook_backoff_max_seconds=0.5) as api:
            receiver.fail_first = 1
            receiver.before_answering = _stop_at(redis, attempt=1)
            await _announce(api, receiver, "cut", "Announced despite the cut.")
            await wait_for(lambda: receiver.attempts >= 1, 10, "the first, failing attempt")
            await asyncio.sleep(1.0)  # the worker meets the stopped Redis
            redis.restart()
            await wait_for(lambda: bool(receiver.received), 15, "the retried delivery")
            (_, body), *_ = receiver.received
            assert json.loads(body)["data"]["document_id"] == "cut"
            assert await _drained(api), "completed once the answer is read"


async def test_a_last_attempt_cut_off_by_a_redis_stop_gets_no_extra_attempt(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path
) -> None:
    # Both allowed attempts fail, and Redis stops while the second is answered, so dropping
    # the job cannot be recorded. When Redis is back the job is dropped, not attempted again.
    with redis_server(tmp_path) as redis:
        async with make_api(
            redis_url=redis.url, webhook_max_attempts=2, webhook_backoff_max_seconds=0.2
        ) as api:
            receiver.fail_first = 2
            receiver.before_answering = _stop_at(redis, attempt=2)
            await _announce(api, receiver, "last", "Dropped after two attempts.")
            await wait_for(lambda: receiver.attempts >= 2, 10, "both failing attempts")
            await asyncio.sleep(1.0)  # the worker meets the stopped Redis
            redis.restart()
            assert await _drained(api), "the dropped job is forgotten once Redis answers"
            await asyncio.sleep(1.0)  # time for an extra attempt, were one made
            assert receiver.attempts == 2
            assert receiver.received == []


async def test_a_delivered_job_cut_off_by_a_redis_stop_is_not_delivered_again(
    make_api: ApiFactory, receiver: Receiver, tmp_path: Path
) -> None:
    # Redis stops while the receiver takes the delivery, so completing the job fails. When
    # Redis is back the job is completed, not delivered a second time.
    with redis_server(tmp_path) as redis:
        async with make_api(redis_url=redis.url) as api:
            receiver.before_answering = _stop_at(redis, attempt=1)
            await _announce(api, receiver, "once", "Delivered exactly once.")
            await wait_for(lambda: bool(receiver.received), 10, "the delivery")
            await asyncio.sleep(1.0)  # the worker meets the stopped Redis
            redis.restart()
            assert await _drained(api), "the delivered job is completed once Redis answers"
            await asyncio.sleep(1.0)  # time for a second delivery, were one made
            assert receiver.attempts == 1
            assert len(receiver.received) == 1
