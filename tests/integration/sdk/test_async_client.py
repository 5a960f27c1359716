"""The asyncio client against a live API server."""

from __future__ import annotations

import asyncio

import pytest

from ragkube_client import AsyncRagkubeClient, AuthenticationError, NotFoundError
from ragkube_client.models import FinalEvent, SourcesEvent, StreamEvent, TokenEvent
from tests.integration.sdk.live_api import LiveApi


async def test_async_login_and_query(live: LiveApi) -> None:
    async with AsyncRagkubeClient(live.url) as client:
        await client.login(live.username, live.password)
        response = await client.query("What is Chroma?", max_results=1)
    assert response.sources[0].metadata["source"] == "chroma.md"


async def test_async_errors_are_typed(live: LiveApi) -> None:
    async with AsyncRagkubeClient(live.url, api_key=live.api_key) as client:
        with pytest.raises(NotFoundError) as caught:
            await client.get_document("no-such-document")
        assert caught.value.request_id
    async with AsyncRagkubeClient(live.url, token="a.b.c") as client:
        with pytest.raises(AuthenticationError):
            await client.stats()


async def test_async_stream_yields_typed_events(live: LiveApi) -> None:
    events: list[StreamEvent] = []
    async with AsyncRagkubeClient(live.url, api_key=live.api_key) as client:
        async for event in client.query_stream("What does a Deployment do?"):
            events.append(event)
    assert isinstance(events[0], SourcesEvent)
    assert any(isinstance(e, TokenEvent) for e in events)
    assert isinstance(events[-1], FinalEvent)


async def test_concurrent_async_calls_over_the_limit_all_succeed_by_retrying(
    live: LiveApi,
) -> None:
    async with AsyncRagkubeClient(live.limited_url, api_key=live.limited_keys[4]) as client:
        pages = await asyncio.gather(*(client.list_documents(limit=1) for _ in range(4)))
    assert all(page.total >= 3 for page in pages)
