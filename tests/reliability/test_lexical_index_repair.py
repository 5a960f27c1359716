"""Whatever a crash between the two stores leaves behind, the consistency sweep repairs.

An ingestion writes Chroma first and the lexical index second; a document written while the
index server was down (or SIGKILLed mid-write) is in Chroma only, and a lexical index may hold
chunks Chroma no longer has. The API's background sweep compares each document's chunk ids in
both stores and fixes the lexical side, counting what it fixed in a metric.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from rag_core.lexical_client import RemoteLexicalIndex
from tests.support.api_harness import Api, ApiFactory
from tests.support.services import IndexServer, index_server

SWEEP_SECONDS = 0.5


async def lexical_ids(api: Api, query: str) -> set[str]:
    response = await api.client.post(
        "/query",
        json={"query": query, "mode": "lexical", "threshold": 0.0, "max_results": 20},
        headers=api.svc,
    )
    assert response.status_code == 200, response.text
    return {s["metadata"]["document_id"] for s in response.json()["sources"]}


async def repairs_counted(api: Api, kind: str) -> float:
    text = (await api.client.get("/metrics")).text
    found = re.search(rf'rag_lexical_index_repairs_total{{kind="{kind}"}} ([0-9.e+]+)', text)
    return float(found.group(1)) if found else 0.0


async def eventually(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.2)
    raise AssertionError("the sweep did not repair the lexical index in time")


@pytest.fixture
async def swept(make_api: ApiFactory, tmp_path: Path) -> AsyncIterator[tuple[Api, IndexServer]]:
    """An app on its own index server, sweeping every SWEEP_SECONDS."""
    with index_server(tmp_path / "index", secrets.token_urlsafe(32)) as lexical:
        async with make_api(
            lexical_index_url=lexical.url,
            lexical_index_token=lexical.token,
            lexical_repair_interval_seconds=SWEEP_SECONDS,
        ) as api:
            yield api, lexical


async def test_a_document_written_while_the_index_server_was_down_is_indexed_by_the_sweep(
    swept: tuple[Api, IndexServer],
) -> None:
    api, lexical = swept
    lexical.kill()
    written = await api.client.post(
        "/documents",
        json={"documents": [{"id": "zeppelin", "content": "Zeppelins float on helium."}]},
        headers=api.svc,
    )
    lexical.restart()

    async def found() -> bool:
        return "zeppelin" in await lexical_ids(api, "zeppelin helium")

    await eventually(found)
    counted = await repairs_counted(api, "missing")

    assert written.status_code == 503  # the caller was told; Chroma already had the chunks
    assert counted >= 1  # the sweep, not the write, put the chunk into the lexical index


async def test_chunks_only_the_lexical_index_holds_are_removed_by_the_sweep(
    swept: tuple[Api, IndexServer],
) -> None:
    api, lexical = swept
    ingested = await api.client.post(
        "/documents",
        json={"documents": [{"id": "kite", "content": "Kites fly on wind."}]},
        headers=api.svc,
    )
    assert ingested.status_code == 201
    # What a crash after Chroma's part of a shorter re-ingestion leaves behind.
    direct = RemoteLexicalIndex(lexical.url, lexical.token, api.settings.chroma_collection_name)
    direct.upsert([("kite::7", "stale kite chunk about thermals", {"document_id": "kite"})])
    assert direct.chunk_ids_of("kite") == {"kite::0", "kite::7"}

    async def cleaned() -> bool:
        return direct.chunk_ids_of("kite") == {"kite::0"}

    await eventually(cleaned)
    counted = await repairs_counted(api, "extra")

    assert counted >= 1
