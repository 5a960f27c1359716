"""/ready answers 503 naming the vector store as soon as Chroma cannot be reached."""

from __future__ import annotations

import time
from pathlib import Path

from tests.support.api_harness import ApiFactory
from tests.support.services import chroma_server


async def test_ready_is_503_naming_the_vector_store_when_chroma_is_down(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    (tmp_path / "chroma").mkdir()
    with chroma_server(tmp_path / "chroma") as chroma:
        async with make_api(chroma_host=chroma.host, chroma_port=chroma.port) as api:
            assert (await api.client.get("/ready")).status_code == 200
            chroma.kill()
            started = time.monotonic()
            response = await api.client.get("/ready")
            assert time.monotonic() - started < 10
            assert response.status_code == 503, response.text
            body = response.json()
            assert body["error"] == "not_ready"
            assert body["details"]["failed"] == ["vector_store"]
            checks = {"vector_store": False, "model": True, "index": True}
            assert body["details"]["checks"] == checks
            assert "vector_store" in body["message"]
            # Liveness does not depend on Chroma: the pod must not be restarted for it.
            assert (await api.client.get("/health")).status_code == 200
            chroma.restart()
