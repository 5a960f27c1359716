"""The lexical index server as replicas use it: one authoritative index, shared, persisted,
and closed to anyone without the deployment's token."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from rag_core.errors import LexicalIndexUnavailable
from rag_core.lexical_client import RemoteLexicalIndex
from ragkube_contract import index_server as contract
from tests.support.services import IndexServer, index_server

TOKEN = secrets.token_urlsafe(32)
COLLECTION = "ragkube"


def chunk(cid: str, text: str, **metadata: object) -> tuple[str, str, dict[str, object]]:
    document_id, position = cid.split("::")
    return cid, text, {"document_id": document_id, "position": int(position), **metadata}


@pytest.fixture
def server(tmp_path: Path) -> Iterator[IndexServer]:
    with index_server(tmp_path, TOKEN) as running:
        yield running


def test_a_write_through_one_replica_is_found_by_another_at_once(server: IndexServer) -> None:
    replica_a = RemoteLexicalIndex(server.url, TOKEN, COLLECTION)
    replica_b = RemoteLexicalIndex(server.url, TOKEN, COLLECTION)

    replica_a.upsert([chunk("a::0", "Pods are scheduled onto nodes", team="ops")])

    assert [h.id for h in replica_b.search("scheduling pods", 5).hits] == ["a::0"]
    assert len(replica_b) == 1


def test_filters_and_deletes_act_inside_the_server(server: IndexServer) -> None:
    index = RemoteLexicalIndex(server.url, TOKEN, COLLECTION)
    index.upsert(
        [
            chunk("a::0", "replica scaling guide", team="ops"),
            chunk("a::1", "replica scaling appendix", team="ops"),
            chunk("b::0", "replica scaling notes", team="dev"),
        ]
    )

    assert [h.id for h in index.search("replica", 5, {"team": "dev"}).hits] == ["b::0"]
    index.delete_document("a", from_position=1)
    assert index.chunk_ids_of("a") == {"a::0"}
    index.delete_document("b")
    assert {h.id for h in index.search("replica", 5).hits} == {"a::0"}


def test_the_index_survives_a_killed_server(server: IndexServer) -> None:
    index = RemoteLexicalIndex(server.url, TOKEN, COLLECTION)
    index.upsert([chunk("a::0", "durable words on disk")])

    server.kill()
    with pytest.raises(LexicalIndexUnavailable):
        index.search("durable", 5)
    server.restart()

    assert [h.id for h in index.search("durable", 5).hits] == ["a::0"]


def test_the_identity_of_what_built_an_index_is_kept_with_it(server: IndexServer) -> None:
    index = RemoteLexicalIndex(server.url, TOKEN, COLLECTION)
    other = RemoteLexicalIndex(server.url, TOKEN, "other")
    identity = {"embedding_model": "all-MiniLM-L6-v2", "dimension": 384, "normalized": True}
    assert index.recorded_identity() is None

    index.record_identity(identity)
    server.kill()
    server.restart()

    assert index.recorded_identity() == identity
    assert other.recorded_identity() is None  # per collection
    nested = httpx.put(
        f"{server.url}{contract.IDENTITY_PATH.format(collection=COLLECTION)}",
        json={"identity": {"embedding_model": {"nested": "object"}}},
        headers={"authorization": f"Bearer {TOKEN}"},
    )
    assert nested.status_code == 422
    assert nested.json()["error"] == "validation_error"
    assert index.recorded_identity() == identity


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer wrong"}, {"authorization": f"Basic {TOKEN}"}],
    ids=["no token", "wrong token", "wrong scheme"],
)
def test_requests_without_the_token_are_refused(
    server: IndexServer, headers: dict[str, str]
) -> None:
    response = httpx.post(
        f"{server.url}{contract.SEARCH_PATH.format(collection=COLLECTION)}",
        json={"query": "x", "k": 1},
        headers=headers,
    )

    assert response.status_code == 401
    assert response.json()["error"] == "unauthorized"
    assert TOKEN not in response.text


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        (b"{not json", 400, "invalid_json"),
        (b'{"query": "x", "k": 0}', 422, "validation_error"),
        (b'{"query": "x", "k": 1, "extra": 1}', 422, "validation_error"),
        (b'{"query": "x", "k": 1, "filters": {"#document": "x"}}', 400, "invalid_query"),
        (b'{"query": "x", "k": 1, "filters": {"t": {"$in": [1, "a"]}}}', 400, "invalid_query"),
    ],
)
def test_malformed_searches_are_refused_in_the_error_envelope(
    server: IndexServer, body: bytes, status: int, error: str
) -> None:
    response = httpx.post(
        f"{server.url}{contract.SEARCH_PATH.format(collection=COLLECTION)}",
        content=body,
        headers={"authorization": f"Bearer {TOKEN}", "content-type": "application/json"},
    )

    assert response.status_code == status
    assert response.json()["error"] == error
    assert set(response.json()) >= {"error", "message", "request_id", "timestamp"}


def test_oversized_writes_are_refused_before_they_are_read(server: IndexServer) -> None:
    headers = {"authorization": f"Bearer {TOKEN}", "content-type": "application/json"}
    too_large = httpx.post(
        f"{server.url}{contract.CHUNKS_PATH.format(collection=COLLECTION)}",
        content=b" " * (contract.MAX_BODY_BYTES + 1),
        headers=headers,
    )
    too_many = httpx.post(
        f"{server.url}{contract.CHUNKS_PATH.format(collection=COLLECTION)}",
        json={
            "chunks": [
                {"id": f"c{i}", "text": "t", "metadata": {}}
                for i in range(contract.MAX_CHUNKS_PER_WRITE + 1)
            ]
        },
        headers=headers,
    )
    bad_metadata = httpx.post(
        f"{server.url}{contract.CHUNKS_PATH.format(collection=COLLECTION)}",
        json={"chunks": [{"id": "c", "text": "t", "metadata": {"nested": {"a": 1}}}]},
        headers=headers,
    )

    assert too_large.status_code == 413
    assert too_many.status_code == 422
    assert bad_metadata.status_code == 422
    assert len(RemoteLexicalIndex(server.url, TOKEN, COLLECTION)) == 0


def test_a_client_of_a_server_that_is_not_there_says_it_is_unavailable(tmp_path: Path) -> None:
    with index_server(tmp_path, TOKEN) as running:
        url = running.url
    with pytest.raises(LexicalIndexUnavailable):
        RemoteLexicalIndex(url, TOKEN, COLLECTION).search("anything", 5)


def test_collections_are_kept_apart_and_names_cannot_leave_the_volume(
    server: IndexServer, tmp_path: Path
) -> None:
    first = RemoteLexicalIndex(server.url, TOKEN, "first")
    second = RemoteLexicalIndex(server.url, TOKEN, "second")
    first.upsert([chunk("a::0", "words only the first collection holds")])

    escaped = httpx.get(
        f"{server.url}/v1/collections/..%2F..%2Fetc/stats",
        headers={"authorization": f"Bearer {TOKEN}"},
    )

    assert second.search("collection", 5).hits == []
    assert [h.id for h in first.search("collection", 5).hits] == ["a::0"]
    assert escaped.status_code == 404
    assert escaped.json()["error"] == "not_found"
    assert not (tmp_path.parent / "etc").exists()


def test_collections_beyond_the_open_limit_close_the_least_recently_used(tmp_path: Path) -> None:
    with index_server(tmp_path, TOKEN, max_collections=2) as running:
        indexes = [RemoteLexicalIndex(running.url, TOKEN, f"c{i}") for i in range(4)]
        for number, index in enumerate(indexes):
            index.upsert([chunk(f"d{number}::0", f"collection number{number} words")])

        found = [
            [h.id for h in index.search(f"number{i}", 5).hits] for i, index in enumerate(indexes)
        ]

    assert found == [["d0::0"], ["d1::0"], ["d2::0"], ["d3::0"]]
