"""Shutting the app down never hangs, however the webhook worker's wake-ups line up with it."""

from __future__ import annotations

import asyncio

from tests.support.api_harness import ApiFactory


async def test_repeated_start_and_stop_always_finishes(make_api: ApiFactory) -> None:
    # A 1 ms poll makes the worker's wait time out constantly, so the cancel of a shutdown
    # often lands just as a timeout fires: the race that used to leave stop() waiting for ever.
    for _ in range(25):
        async with asyncio.timeout(60):
            async with make_api(webhook_poll_seconds=0.001) as api:
                await asyncio.sleep(0.02)
                assert (await api.client.get("/health")).status_code == 200
