"""The service fixtures start real servers that answer on loopback."""

from __future__ import annotations

import chromadb
import redis

from tests.support.services import ChromaServer


def test_redis_fixture_serves_a_real_redis(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)

    client.set("ragkube:fixture", "ok")

    assert client.get("ragkube:fixture") == b"ok"


def test_chroma_fixture_serves_a_real_chroma(chroma_server: ChromaServer) -> None:
    client = chromadb.HttpClient(host=chroma_server.host, port=chroma_server.port)
    collection = client.get_or_create_collection("fixture-check")

    collection.upsert(ids=["a"], embeddings=[[0.1, 0.2, 0.3]], documents=["hello"])

    assert collection.count() == 1
