"""A small, bounded load generator for fault tests: N workers calling one async action.

Each call is recorded with the phase of the test it happened in (before / outage / after),
so a test can assert what the API answered during each phase of a fault.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import httpx


@dataclass(frozen=True)
class Outcome:
    """One call: when, in which phase, what came back, how long it took."""

    phase: str
    route: str
    status: int  # 0 when the client itself failed (timeout, connection error)
    error: str | None  # the envelope's `error` code, or the client error's type
    seconds: float


@dataclass
class Load:
    """Runs `action(worker, n)` in `workers` loops until stopped; records every outcome."""

    action: Callable[[int, int], Awaitable[tuple[str, httpx.Response]]]
    workers: int = 4
    phase: str = "before"
    outcomes: list[Outcome] = field(default_factory=list)
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _stopping: bool = False

    async def _loop(self, worker: int) -> None:
        n = 0
        while not self._stopping:
            started = time.monotonic()
            phase = self.phase
            try:
                route, response = await self.action(worker, n)
                status = response.status_code
                error = response.json().get("error") if status >= 400 else None
            except httpx.HTTPError as exc:
                route, status, error = "?", 0, type(exc).__name__
            self.outcomes.append(Outcome(phase, route, status, error, time.monotonic() - started))
            n += 1
            await asyncio.sleep(0.01)

    def start(self) -> None:
        """Start the workers on the running loop."""
        self._tasks = [asyncio.create_task(self._loop(i)) for i in range(self.workers)]

    async def stop(self) -> None:
        """Let every call in flight finish, then stop."""
        self._stopping = True
        await asyncio.gather(*self._tasks)

    def during(self, phase: str) -> list[Outcome]:
        """The outcomes recorded in `phase`."""
        return [o for o in self.outcomes if o.phase == phase]

    async def until_healthy(self, successes: int, timeout: float) -> float:
        """Wait until the last `successes` outcomes all succeeded; returns the seconds taken."""
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            recent = self.during(self.phase)[-successes:]
            if len(recent) == successes and all(200 <= o.status < 300 for o in recent):
                return time.monotonic() - started
            await asyncio.sleep(0.1)
        recent_statuses = [(o.status, o.error) for o in self.during(self.phase)[-successes:]]
        raise AssertionError(f"no recovery within {timeout}s; last outcomes: {recent_statuses}")


async def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    """Poll `predicate` until it holds; fail naming `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not within {timeout}s")
        await asyncio.sleep(0.05)
