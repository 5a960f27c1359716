"""Where webhooks come from: runtime registrations and the operator's mounted file.

Runtime webhooks (POST /webhooks) live in Redis when it is configured, so every replica
sees them, and in process memory otherwise. Operator-managed webhooks are read from
WEBHOOKS_FILE, which the operator renders from Webhook resources into a Secret mounted in
every API pod; the file is re-read whenever it changes (a stat per lookup), so a new or
edited Webhook takes effect without a restart. Its format:

    {"webhooks": [{"name": "ns/orders", "url": "https://...", "events": ["query.completed"],
                   "secret": "<HMAC key>"}]}

A bare JSON list of the same objects is accepted too.
"""

from __future__ import annotations

import json
import os
import secrets
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import structlog
from redis.asyncio import Redis

log = structlog.get_logger("api.webhooks")

RUNTIME_CACHE_SECONDS = 2.0
EVENTS = ("query.completed", "query.failed", "document.ingested", "document.deleted")


@dataclass(frozen=True)
class Webhook:
    """One subscription: where to send which events, signed with which key."""

    id: str
    url: str
    events: tuple[str, ...]
    secret: str
    source: str  # "runtime" or "operator"
    description: str = ""

    def wants(self, event: str) -> bool:
        """True when this webhook subscribes to `event`."""
        return event in self.events or "*" in self.events


def _validate_events(events: Any, where: str) -> tuple[str, ...]:
    if not isinstance(events, list) or not events or not all(isinstance(e, str) for e in events):
        raise ValueError(f"{where}: 'events' must be a non-empty list of event names")
    unknown = set(events) - set(EVENTS) - {"*"}
    if unknown:
        raise ValueError(f"{where}: unknown events {sorted(unknown)}; known: {list(EVENTS)}")
    return tuple(dict.fromkeys(events))


def parse_operator_file(data: Any, source: str) -> list[Webhook]:
    """The webhooks listed in the operator's file; raises ValueError naming a bad entry."""
    items = data.get("webhooks", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError(f"{source}: expected a list of webhooks")
    hooks = []
    for i, item in enumerate(items):
        where = f"{source}: webhooks[{i}]"
        if not isinstance(item, dict):
            raise ValueError(f"{where}: expected an object")
        name, url, secret = item.get("name"), item.get("url"), item.get("secret")
        if not isinstance(name, str) or not isinstance(url, str) or not isinstance(secret, str):
            raise ValueError(f"{where}: 'name', 'url' and 'secret' must be strings")
        hooks.append(
            Webhook(
                # Ids appear in URL paths (DELETE /webhooks/{id}); a "/" would break that.
                id="operator:" + name.replace("/", ":"),
                url=url,
                events=_validate_events(item.get("events"), where),
                secret=secret,
                source="operator",
                description=str(item.get("description", "")),
            )
        )
    return hooks


class WebhookRegistry:
    """All webhooks this replica delivers to."""

    def __init__(self, redis: Redis[str] | None, prefix: str, operator_file: Path | None) -> None:
        self._redis = redis
        self._key = f"{prefix}:webhooks:registry"
        self._local: dict[str, Webhook] = {}
        self._file = operator_file
        self._file_stamp: tuple[float, int] | None = None
        self._file_hooks: list[Webhook] = []
        self._cached: tuple[float, list[Webhook]] | None = None

    def _operator_hooks(self) -> list[Webhook]:
        if self._file is None:
            return []
        try:
            st = os.stat(self._file)
        except FileNotFoundError:
            if self._file_hooks:
                log.info("webhooks_file_removed", path=str(self._file))
            self._file_hooks, self._file_stamp = [], None
            return []
        stamp = (st.st_mtime, st.st_size)
        if stamp != self._file_stamp:
            try:
                hooks = parse_operator_file(json.loads(self._file.read_text()), str(self._file))
            except (OSError, ValueError) as exc:
                # Keep delivering to the last good set; a half-written file must not drop them.
                log.error("webhooks_file_invalid", path=str(self._file), error=str(exc))
                return self._file_hooks
            self._file_hooks, self._file_stamp = hooks, stamp
            log.info("webhooks_file_loaded", path=str(self._file), count=len(hooks))
        return self._file_hooks

    async def _runtime_hooks(self) -> list[Webhook]:
        if self._redis is None:
            return list(self._local.values())
        # Every query publishes an event; a short cache keeps that from costing a Redis
        # round trip each time. Registrations made on another replica show up within it.
        now = time.monotonic()
        if self._cached is not None and now - self._cached[0] < RUNTIME_CACHE_SECONDS:
            return self._cached[1]
        hooks = [_from_json(item) for item in await self._redis.hvals(self._key)]
        self._cached = (now, hooks)
        return hooks

    async def all(self) -> list[Webhook]:
        """Every webhook, operator-managed first."""
        return self._operator_hooks() + await self._runtime_hooks()

    async def get(self, webhook_id: str) -> Webhook | None:
        """One webhook by id."""
        for hook in self._operator_hooks():
            if hook.id == webhook_id:
                return hook
        if self._redis is None:
            return self._local.get(webhook_id)
        raw = await self._redis.hget(self._key, webhook_id)
        return _from_json(raw) if raw is not None else None

    async def add(
        self, url: str, events: list[str], secret: str | None, description: str = ""
    ) -> Webhook:
        """Register a runtime webhook (the URL must already have passed the SSRF guard)."""
        hook = Webhook(
            id=uuid.uuid4().hex,
            url=url,
            events=_validate_events(events, "webhook"),
            secret=secret or secrets.token_urlsafe(32),
            source="runtime",
            description=description,
        )
        if self._redis is None:
            self._local[hook.id] = hook
        else:
            await self._redis.hset(self._key, hook.id, json.dumps(asdict(hook)))
            self._cached = None
        return hook

    async def remove(self, webhook_id: str) -> bool:
        """Delete a runtime webhook; False when there was none with that id."""
        if self._redis is None:
            return self._local.pop(webhook_id, None) is not None
        self._cached = None
        return bool(await self._redis.hdel(self._key, webhook_id))


def _from_json(raw: str | bytes) -> Webhook:
    data = json.loads(raw)
    data["events"] = tuple(data["events"])
    return Webhook(**data)
