"""The Chroma server SIGKILLed under load, then restarted on the same data; and hung.

While it is down, /ready turns 503 naming the vector store within seconds and every query
fails fast with the 503 `vector_store_unavailable` envelope (with Retry-After). When it is
back, the same API process recovers by itself and every document ingested before the crash
is still there.
"""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx

from tests.support.api_harness import CORPUS, ApiFactory
from tests.support.load import Load
from tests.support.services import chroma_server

OUTAGE_SECONDS = 3.0
#: How long a query or probe may take when Chroma hangs instead of dying.
HUNG_BOUND_SECONDS = 15.0


async def test_chroma_killed_and_restarted_under_load(make_api: ApiFactory, tmp_path: Path) -> None:
    (tmp_path / "chroma").mkdir()
    with chroma_server(tmp_path / "chroma") as chroma:
        async with make_api(chroma_host=chroma.host, chroma_port=chroma.port) as api:
            await api.ingest_corpus()
            extra = [
                {"id": f"extra-{i}", "content": f"Extra note {i} on storage."} for i in range(20)
            ]
            response = await api.client.post(
                "/documents", json={"documents": extra}, headers=api.svc
            )
            assert response.status_code == 201
            expected = {d["id"] for d in CORPUS} | {d["id"] for d in extra}

            async def ask(worker: int, n: int) -> tuple[str, httpx.Response]:
                topic = ("What is Chroma", "What is BM25", "What do plants release")[n % 3]
                # A new question each time: answers from the cache would not touch Chroma.
                question = f"{topic}? (asked by {worker}, time {n})"
                return "/query", await api.client.post(
                    "/query", json={"query": question}, headers=api.svc
                )

            load = Load(ask, workers=3)
            load.start()
            try:
                # Kill only once queries are being answered: a slow first query still in
                # flight at the kill would otherwise count as a failure before the fault.
                await load.until_healthy(successes=3, timeout=30)
                chroma.kill()
                killed_at = time.monotonic()
                load.phase = "outage"

                async def not_ready() -> bool:
                    return (await api.client.get("/ready")).status_code == 503

                while not await not_ready():
                    assert time.monotonic() - killed_at < 5, "/ready still 200 after 5s"
                    await asyncio.sleep(0.1)
                ready = (await api.client.get("/ready")).json()
                await asyncio.sleep(OUTAGE_SECONDS)
                chroma.restart()
                load.phase = "after"
                recovery = await load.until_healthy(successes=10, timeout=60)
            finally:
                await load.stop()

            assert ready["details"]["failed"] == ["vector_store"]
            assert "vector_store" in ready["message"]
            before = load.during("before")
            assert before[0].status == 200
            # Calls that started just before the kill may end in the outage's answer.
            assert {(o.status, o.error) for o in before} <= {
                (200, None),
                (503, "vector_store_unavailable"),
            }
            outage = load.during("outage")
            failures = [o for o in outage if o.status != 200]
            assert len(failures) >= 3, outage  # queries really ran against the dead server
            assert {(o.status, o.error) for o in failures} == {(503, "vector_store_unavailable")}
            assert max(o.seconds for o in load.outcomes) < 10  # fast failures, no hangs
            assert recovery < 60
            assert (await api.client.get("/ready")).status_code == 200

            # Nothing ingested before the crash was lost.
            listed = await api.client.get("/documents?limit=200", headers=api.svc)
            assert listed.json()["total"] == len(expected)
            assert {d["id"] for d in listed.json()["items"]} == expected
            answer = await api.client.post(
                "/query", json={"query": "What is BM25?"}, headers=api.svc
            )
            assert answer.status_code == 200
            assert "BM25" in answer.json()["sources"][0]["content"]
            # Writes work again too.
            again = await api.client.post(
                "/documents",
                json={"documents": [{"id": "after", "content": "Written after the restart."}]},
                headers=api.svc,
            )
            assert again.status_code == 201


async def test_a_hung_chroma_server_fails_queries_within_a_bound(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    (tmp_path / "chroma").mkdir()
    with chroma_server(tmp_path / "chroma") as chroma:
        async with make_api(
            chroma_host=chroma.host, chroma_port=chroma.port, chroma_timeout_seconds=5
        ) as api:
            await api.ingest_corpus()
            chroma.process.send_signal(signal.SIGSTOP)
            try:
                ready = await asyncio.wait_for(api.client.get("/ready"), HUNG_BOUND_SECONDS)
                assert ready.status_code == 503
                answer = await asyncio.wait_for(
                    api.client.post(
                        "/query", json={"query": "What is Chroma, hung?"}, headers=api.svc
                    ),
                    HUNG_BOUND_SECONDS,
                )
                assert answer.status_code == 503
                assert answer.json()["error"] == "vector_store_unavailable"
            finally:
                # Let the blocked threads finish, so the app can shut down.
                chroma.process.send_signal(signal.SIGCONT)
