"""Pending webhook deliveries: durable in Redis, or in process memory without it.

In Redis a delivery is a JSON job in a hash plus its due time in a sorted set. A worker
claims due jobs with one Lua script that also pushes their due time a lease into the
future; if the worker's process dies mid-delivery, the job becomes due again when the
lease ends and another replica (or the restarted one) delivers it. Deliveries are
therefore at-least-once: receivers de-duplicate by the X-Webhook-Delivery id.
"""

from __future__ import annotations

import heapq
import json
from dataclasses import asdict, dataclass, replace
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True)
class DeliveryJob:
    """One event to deliver to one webhook."""

    id: str
    webhook_id: str
    event: str
    body: str  # the exact JSON sent, fixed when the event happened
    attempts: int = 0

    def next_attempt(self) -> DeliveryJob:
        """The same job with one more attempt counted."""
        return replace(self, attempts=self.attempts + 1)


class DeliveryQueue(Protocol):
    """Jobs waiting for their (next) delivery attempt."""

    async def push(self, job: DeliveryJob, due_at: float) -> None:
        """Schedule `job` for `due_at` (Unix seconds); replaces an earlier schedule."""
        ...

    async def claim(self, now: float, lease_seconds: float, limit: int) -> list[DeliveryJob]:
        """Jobs due at `now`, hidden from other claimers for `lease_seconds`."""
        ...

    async def complete(self, job_id: str) -> None:
        """Forget a job (delivered or given up)."""
        ...

    async def pending(self) -> int:
        """How many jobs wait."""
        ...


class InProcessDeliveryQueue:
    """A heap of due times; lost with the process (use Redis for durability)."""

    def __init__(self) -> None:
        self._jobs: dict[str, tuple[float, DeliveryJob]] = {}
        self._heap: list[tuple[float, str]] = []

    async def push(self, job: DeliveryJob, due_at: float) -> None:
        """Schedule `job` for `due_at`."""
        self._jobs[job.id] = (due_at, job)
        heapq.heappush(self._heap, (due_at, job.id))

    async def claim(self, now: float, lease_seconds: float, limit: int) -> list[DeliveryJob]:
        """Jobs due at `now` (a claimed job leaves the heap until pushed again)."""
        claimed: list[DeliveryJob] = []
        while self._heap and self._heap[0][0] <= now and len(claimed) < limit:
            due, job_id = heapq.heappop(self._heap)
            entry = self._jobs.get(job_id)
            if entry is None or entry[0] != due:
                continue  # completed or rescheduled since
            claimed.append(entry[1])
        return claimed

    async def complete(self, job_id: str) -> None:
        """Forget a job."""
        self._jobs.pop(job_id, None)

    async def pending(self) -> int:
        """How many jobs wait."""
        return len(self._jobs)


_CLAIM_LUA = """
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local out = {}
for _, id in ipairs(ids) do
  local body = redis.call('HGET', KEYS[2], id)
  if body then
    redis.call('ZADD', KEYS[1], ARGV[2], id)
    table.insert(out, body)
  else
    redis.call('ZREM', KEYS[1], id)
  end
end
return out
"""


class RedisDeliveryQueue:
    """Durable queue shared by every replica on one Redis."""

    def __init__(self, redis: Redis[str], prefix: str) -> None:
        self._redis = redis
        self._due = f"{prefix}:webhooks:due"
        self._jobs = f"{prefix}:webhooks:jobs"
        self._claim = redis.register_script(_CLAIM_LUA)

    async def push(self, job: DeliveryJob, due_at: float) -> None:
        """Schedule `job` for `due_at`."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hset(self._jobs, job.id, json.dumps(asdict(job)))
            pipe.zadd(self._due, {job.id: due_at})
            await pipe.execute()

    async def claim(self, now: float, lease_seconds: float, limit: int) -> list[DeliveryJob]:
        """Jobs due at `now`, leased for `lease_seconds`."""
        raw = await self._claim(
            keys=[self._due, self._jobs], args=[now, now + lease_seconds, limit]
        )
        return [DeliveryJob(**json.loads(item)) for item in raw]

    async def complete(self, job_id: str) -> None:
        """Forget a job."""
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(self._due, job_id)
            pipe.hdel(self._jobs, job_id)
            await pipe.execute()

    async def pending(self) -> int:
        """How many jobs wait."""
        return int(await self._redis.zcard(self._due))
