"""Several replicas sharing one storage tier (a real Chroma server and a real lexical index
server) stay consistent in every retrieval mode."""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from rag_core import DocumentInput, RagSettings, RAGSystem, VectorStoreUnavailable
from tests.support.services import IndexServer
from tests.support.services import chroma_server as own_chroma_server

Replica = Callable[[], Any]


@pytest.fixture
async def replicas(
    tmp_path: Path, chroma_server: Any, index_server: IndexServer
) -> AsyncIterator[tuple[RAGSystem, RAGSystem]]:
    collection = f"test-{uuid.uuid4().hex[:12]}"
    settings = RagSettings(
        data_dir=tmp_path,
        chroma_host=chroma_server.host,
        chroma_port=chroma_server.port,
        chroma_auth_token="not-checked-by-chroma-run",
        collection_name=collection,
        lexical_index_url=index_server.url,
        lexical_index_token=index_server.token,
    )
    async with AsyncExitStack() as stack:
        pair = []
        for _ in range(2):
            replica = RAGSystem(settings)
            await replica.astart()
            stack.push_async_callback(replica.aclose)
            pair.append(replica)
        yield pair[0], pair[1]


async def test_a_document_ingested_on_one_replica_is_found_by_the_other_in_every_mode(
    replicas: tuple[RAGSystem, RAGSystem],
) -> None:
    writer, reader = replicas
    [result] = await writer.aingest(
        [DocumentInput("Kueue admits batch jobs by quota.", id="kueue", source="kueue.md")]
    )
    assert result.ok
    for mode in ("dense", "lexical", "hybrid"):
        answer = await reader.aquery("Which component admits batch jobs?", mode=mode)
        assert [s.metadata["document_id"] for s in answer.sources] == ["kueue"], mode
    assert await reader.acurrent_index_version() == writer.index_version


async def test_a_delete_on_one_replica_reaches_the_others_lexical_index(
    replicas: tuple[RAGSystem, RAGSystem],
) -> None:
    writer, reader = replicas
    await writer.aingest([DocumentInput("Velero backs up cluster resources.", id="velero")])
    assert (await reader.aquery("velero backups", mode="lexical")).sources
    assert await reader.adelete_document("velero")
    after = await writer.aquery("velero backups", mode="lexical", threshold=0.0)
    assert after.sources == []
    assert (await writer.astats())["documents"] == 0


async def test_writes_on_both_replicas_end_up_in_both_indexes(
    replicas: tuple[RAGSystem, RAGSystem],
) -> None:
    first, second = replicas
    await first.aingest([DocumentInput("Cilium enforces network policies with eBPF.", id="cilium")])
    await second.aingest([DocumentInput("Istio injects sidecar proxies.", id="istio")])
    for replica in replicas:
        found = await replica.aquery("cilium istio", mode="lexical", threshold=0.0)
        assert {s.metadata["document_id"] for s in found.sources} == {"cilium", "istio"}


async def test_an_unreachable_server_is_reported_as_vector_store_unavailable(
    tmp_path: Path,
) -> None:
    rag = RAGSystem(RagSettings(data_dir=tmp_path, chroma_host="127.0.0.1", chroma_port=1))
    with pytest.raises(VectorStoreUnavailable, match=r"127\.0\.0\.1:1"):
        await rag.astart()
    await rag.aclose()


async def test_a_query_while_the_server_is_down_fails_once_and_leaves_no_stray_error(
    tmp_path: Path,
) -> None:
    (tmp_path / "chroma").mkdir()
    loop = asyncio.get_running_loop()
    reported: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _, context: reported.append(context))
    with own_chroma_server(tmp_path / "chroma") as server:
        rag = RAGSystem(
            RagSettings(
                data_dir=tmp_path,
                chroma_host=server.host,
                chroma_port=server.port,
            )
        )
        await rag.astart()
        try:
            await rag.aingest([DocumentInput("Falco watches syscalls.", id="falco")])
            server.kill()
            with pytest.raises(VectorStoreUnavailable):
                await rag.aquery("What watches syscalls?", mode="hybrid")
            # Let the lexical search, which runs beside the dense one, finish and be freed.
            await asyncio.sleep(1.0)
            gc.collect()
            await asyncio.sleep(0)
        finally:
            loop.set_exception_handler(None)
            await rag.aclose()
    assert [c.get("message") for c in reported] == []
