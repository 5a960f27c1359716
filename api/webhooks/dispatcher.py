"""Turns events into signed, retried webhook deliveries.

`publish(event, data)` enqueues one job per subscribed webhook and returns at once; a
background worker (started in the app's lifespan) claims due jobs and POSTs them. A 2xx
answer completes a job. Anything else (non-2xx, timeout, connection error) schedules a
retry after an exponential backoff with jitter — base * 2^(attempt-1), capped, of which a
random half is waited — until WEBHOOK_MAX_ATTEMPTS attempts; then the job is dropped with
`rag_webhook_deliveries_total{outcome="dropped"}` and an error log line. Redirects are not
followed (a redirect could lead past the SSRF guard), and the guard runs again before each
attempt.

When Redis cannot be reached at the moment an event happens, the event is held in process
memory (up to MAX_HELD_EVENTS, oldest dropped first with a metric and a log line) and queued
by the worker as soon as Redis answers again, so a Redis outage delays deliveries instead of
losing them. Delivery ids are derived from the event and the webhook, so queueing an event
twice (after a partial failure) can only repeat a delivery id, which receivers de-duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import json
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx
import structlog
from redis.exceptions import RedisError

from api.metrics import Metrics
from api.webhooks.delivery_queue import DeliveryJob, DeliveryQueue
from api.webhooks.registry import Webhook, WebhookRegistry
from api.webhooks.signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    sign,
)
from api.webhooks.url_guard import PinnedTransport, UnsafeWebhookURL, URLGuard

log = structlog.get_logger("api.webhooks")

#: Events kept in memory while Redis is unreachable, before the oldest are dropped.
MAX_HELD_EVENTS = 10_000


@dataclass(frozen=True)
class _QueueWrite:
    """What the queue must record about a job: push it due at `due_at`, or (None) complete it."""

    job: DeliveryJob
    due_at: float | None


@dataclass(frozen=True)
class _Event:
    """One occurrence of an event, fixed when it happened."""

    id: str
    name: str
    data: dict[str, Any]
    created_at: str

    def delivery_id(self, webhook_id: str) -> str:
        """The same id however often this event is queued for this webhook."""
        return hashlib.sha256(f"{self.id}:{webhook_id}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a delivery is retried."""

    max_attempts: int = 6
    base_seconds: float = 1.0
    max_seconds: float = 300.0

    def delay(self, attempts: int) -> float:
        """Seconds to wait after the `attempts`-th failed attempt (equal jitter)."""
        ceiling = min(self.max_seconds, self.base_seconds * 2 ** max(0, attempts - 1))
        return float(ceiling / 2 + random.uniform(0, ceiling / 2))  # noqa: S311 (jitter, not crypto)


class WebhookDispatcher:
    """Publishes events and runs the delivery worker."""

    def __init__(
        self,
        registry: WebhookRegistry,
        queue: DeliveryQueue,
        guard: URLGuard,
        metrics: Metrics,
        *,
        retry: RetryPolicy,
        timeout_seconds: float,
        poll_seconds: float,
        user_agent: str = "ragkube-webhooks/1",
    ) -> None:
        self.registry = registry
        self.queue = queue
        self.guard = guard
        self.metrics = metrics
        self.retry = retry
        self._timeout = timeout_seconds
        self._poll = poll_seconds
        self._user_agent = user_agent
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._client: httpx.AsyncClient | None = None
        self._held: deque[_Event] = deque()
        # Queue writes lost to a Redis failure midway through a delivery (see _attempt).
        self._stranded: deque[_QueueWrite] = deque()

    async def publish(self, event: str, data: dict[str, Any]) -> int:
        """Queue `event` for every webhook subscribed to it; returns how many were queued.

        Never raises: when the queue cannot be reached the event is held in memory and
        queued later by the worker (see the module docstring), and the request that caused
        the event is answered as usual.
        """
        occurrence = _Event(uuid.uuid4().hex, event, data, dt.datetime.now(dt.UTC).isoformat())
        if self._held:
            self._hold(occurrence)  # keep the order in which events happened
            return 0
        try:
            queued = await self._enqueue(occurrence)
        except (RedisError, OSError) as exc:
            log.warning("webhook_enqueue_deferred", webhook_event=event, error=str(exc))
            self._hold(occurrence)
            return 0
        if queued:
            self._wake.set()
        return queued

    async def _enqueue(self, occurrence: _Event) -> int:
        hooks = [h for h in await self.registry.all() if h.wants(occurrence.name)]
        now = time.time()
        for hook in hooks:
            delivery_id = occurrence.delivery_id(hook.id)
            body = json.dumps(
                {
                    "id": delivery_id,
                    "event": occurrence.name,
                    "created_at": occurrence.created_at,
                    "data": occurrence.data,
                },
                separators=(",", ":"),
            )
            await self.queue.push(DeliveryJob(delivery_id, hook.id, occurrence.name, body), now)
        return len(hooks)

    def _hold(self, occurrence: _Event) -> None:
        if len(self._held) >= MAX_HELD_EVENTS:
            dropped = self._held.popleft()
            self.metrics.webhook_deliveries.labels(dropped.name, "dropped").inc()
            log.error("webhook_event_dropped", webhook_event=dropped.name, reason="backlog full")
        self._held.append(occurrence)

    async def _queue_held(self) -> None:
        """Queue the events held during a Redis outage, oldest first, while Redis answers."""
        while self._held:
            try:
                await self._enqueue(self._held[0])
            except (RedisError, OSError):
                return
            self._held.popleft()
        log.info("webhook_backlog_queued")

    @property
    def held_events(self) -> int:
        """Events waiting in memory for Redis to come back."""
        return len(self._held)

    def start(self) -> None:
        """Start the delivery worker on the running loop."""
        self._client = httpx.AsyncClient(
            transport=PinnedTransport(self.guard),
            trust_env=False,  # a proxy from the environment would connect past the guard
            timeout=self._timeout,
            follow_redirects=False,
            headers={"User-Agent": self._user_agent},
        )
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="webhook-delivery")

    async def stop(self) -> None:
        """Stop the worker; jobs not yet delivered stay queued (in Redis, for the next start).

        How long this may take is bounded by the caller (the app's shutdown steps); the client
        is closed even when that bound cuts the wait for the worker short.
        """
        task, self._task = self._task, None
        # A cancel can be swallowed on its way through a client library (the worker then went
        # on polling for ever); the flag ends the loop at its next turn whatever happens to it.
        self._stopping = True
        self._wake.set()
        try:
            if task is not None:
                task.cancel()
                # wait() never raises the worker's own CancelledError, only a cancel of this call.
                await asyncio.wait({task})
        finally:
            if self._client is not None:
                await self._client.aclose()
                self._client = None

    async def _run(self) -> None:
        lease = self._timeout + 30.0
        while not self._stopping:
            if self._stranded:
                await self._requeue_stranded()
            if self._held:
                await self._queue_held()
            try:
                jobs = await self.queue.claim(time.time(), lease, 16)
            except (RedisError, OSError) as exc:
                log.warning("webhook_queue_unavailable", error=str(exc))
                jobs = []
            if jobs:
                await asyncio.gather(*(self._attempt(job) for job in jobs))
                continue
            self._wake.clear()
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancel that
            # lands as its timeout fires, and stop() then waited for this task for ever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll):
                    await self._wake.wait()

    async def _attempt(self, job: DeliveryJob) -> None:
        """Deliver one claimed job; a queue write lost to a Redis failure is kept for later.

        The job stays leased in Redis (due again only after timeout + 30 s), so the write that
        failed is made as soon as Redis answers: before the POST the job goes back unchanged;
        after it, the attempt counts, a retry keeps its backoff, and a finished job (delivered
        or dropped) is only completed, never delivered again or given an extra attempt.
        """
        try:
            hook = await self._deliverable(job)
        except (RedisError, OSError) as exc:
            self._strand(_QueueWrite(job, time.time()), exc)
            return
        if hook is None:
            return
        attempt = job.next_attempt()
        failure = await self._post(attempt, hook)
        write = self._settle(attempt, hook, failure)
        try:
            await self._apply(write)
        except (RedisError, OSError) as exc:
            self._strand(write, exc)

    def _strand(self, write: _QueueWrite, exc: Exception) -> None:
        log.warning("webhook_queue_unavailable", error=str(exc), delivery_id=write.job.id)
        self._stranded.append(write)

    async def _apply(self, write: _QueueWrite) -> None:
        if write.due_at is None:
            await self.queue.complete(write.job.id)
        else:
            await self.queue.push(write.job, write.due_at)

    async def _requeue_stranded(self) -> None:
        """Make the queue writes lost to a Redis failure, while the queue answers."""
        while self._stranded:
            try:
                await self._apply(self._stranded[0])
            except (RedisError, OSError):
                return
            self._stranded.popleft()

    async def _deliverable(self, job: DeliveryJob) -> Webhook | None:
        """The job's webhook, or None (job completed) when it is gone or its URL is refused."""
        hook = await self.registry.get(job.webhook_id)
        if hook is None:
            log.info("webhook_gone", delivery_id=job.id, webhook_id=job.webhook_id)
            await self.queue.complete(job.id)
            return None
        try:
            await self.guard.check(hook.url)
        except UnsafeWebhookURL as exc:
            self.metrics.webhook_deliveries.labels(job.event, "refused").inc()
            log.error("webhook_refused", delivery_id=job.id, webhook_id=hook.id, reason=str(exc))
            await self.queue.complete(job.id)
            return None
        return hook

    async def _post(self, attempt: DeliveryJob, hook: Webhook) -> str | None:
        """POST one signed attempt; None when the receiver took it, else why it failed."""
        timestamp = int(time.time())
        body = attempt.body.encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(hook.secret, timestamp, body),
            TIMESTAMP_HEADER: str(timestamp),
            EVENT_HEADER: attempt.event,
            DELIVERY_HEADER: attempt.id,
        }
        assert self._client is not None
        try:
            response = await self._client.post(hook.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if 200 <= response.status_code < 300:
            return None
        return f"HTTP {response.status_code}"

    def _settle(self, attempt: DeliveryJob, hook: Webhook, failure: str | None) -> _QueueWrite:
        """Count and log an attempt's outcome; the queue write that records it."""
        if failure is None:
            self.metrics.webhook_deliveries.labels(attempt.event, "delivered").inc()
            log.info(
                "webhook_delivered",
                delivery_id=attempt.id,
                webhook_id=hook.id,
                webhook_event=attempt.event,
                attempt=attempt.attempts,
            )
            return _QueueWrite(attempt, None)
        if attempt.attempts >= self.retry.max_attempts:
            self.metrics.webhook_deliveries.labels(attempt.event, "dropped").inc()
            log.error(
                "webhook_dropped",
                delivery_id=attempt.id,
                webhook_id=hook.id,
                webhook_event=attempt.event,
                attempts=attempt.attempts,
                last_error=failure,
            )
            return _QueueWrite(attempt, None)
        delay = self.retry.delay(attempt.attempts)
        self.metrics.webhook_deliveries.labels(attempt.event, "retried").inc()
        log.warning(
            "webhook_retry",
            delivery_id=attempt.id,
            webhook_id=hook.id,
            attempt=attempt.attempts,
            retry_in_seconds=round(delay, 2),
            last_error=failure,
        )
        return _QueueWrite(attempt, time.time() + delay)
