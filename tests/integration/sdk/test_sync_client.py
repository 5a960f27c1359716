"""The blocking client against a live API server."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ragkube_client import (
    AuthenticationError,
    NotFoundError,
    PermissionDeniedError,
    RagkubeClient,
    RateLimitedError,
    RetryPolicy,
    ValidationError,
)
from ragkube_client.models import FinalEvent, SourcesEvent, TokenEvent
from tests.integration.sdk.live_api import LiveApi


def test_query_with_an_api_key_returns_the_answer_and_its_sources(live: LiveApi) -> None:
    with RagkubeClient(live.url, api_key=live.api_key) as client:
        response = client.query("What does a Deployment do?", max_results=2)
    assert "Deployment" in response.answer
    assert 1 <= len(response.sources) <= 2
    assert response.sources[0].metadata["source"] == "kubernetes.md"
    assert response.request_id


def test_login_issues_a_token_the_client_then_uses(live: LiveApi) -> None:
    with RagkubeClient(live.url) as client:
        token = client.login(live.username, live.password)
        assert token.token_type == "bearer"
        assert set(token.scopes) == {"query", "ingest"}
        assert client.token == token.access_token
        assert client.stats().documents >= 3
    with RagkubeClient(live.url, token=token.access_token) as client:
        assert client.query("What is Chroma?").sources


def test_a_wrong_password_raises_authentication_error_with_the_request_id(live: LiveApi) -> None:
    with RagkubeClient(live.url) as client, pytest.raises(AuthenticationError) as caught:
        client.login(live.username, "not-the-password")
    assert caught.value.status_code == 401
    assert caught.value.error == "invalid_credentials"
    assert caught.value.request_id
    assert len(caught.value.request_id) >= 16
    assert caught.value.request_id in str(caught.value)


def test_an_unknown_api_key_raises_authentication_error(live: LiveApi) -> None:
    with (
        RagkubeClient(live.url, api_key="rk_not-a-real-key") as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.query("What is Chroma?")
    assert caught.value.message == "The API key is not valid."


def test_a_key_without_the_ingest_scope_cannot_ingest(live: LiveApi) -> None:
    with (
        RagkubeClient(live.url, api_key=live.query_only_key) as client,
        pytest.raises(PermissionDeniedError) as caught,
    ):
        client.ingest([{"content": "Forbidden text."}])
    assert caught.value.details == {"scope": "ingest"}


def test_an_invalid_request_raises_validation_error_naming_the_field(live: LiveApi) -> None:
    with (
        RagkubeClient(live.url, api_key=live.api_key) as client,
        pytest.raises(ValidationError) as caught,
    ):
        client.query("ab")
    assert caught.value.status_code == 422
    assert caught.value.details[0]["loc"] == ["body", "query"]


def test_documents_can_be_ingested_read_and_deleted(live: LiveApi, tmp_path: Path) -> None:
    note = tmp_path / "raft.md"
    note.write_text("# Raft\n\nRaft elects a leader that replicates a log to its followers.")
    with RagkubeClient(live.url, api_key=live.api_key) as client:
        uploaded = client.ingest_files([note], metadata={"team": "storage"})
        assert (uploaded.ingested, uploaded.failed) == (1, 0)
        document_id = uploaded.results[0].document_id
        assert document_id is not None
        stored = client.get_document(document_id)
        assert stored.source == "raft.md"
        assert stored.metadata["team"] == "storage"
        assert stored.original is not None
        assert stored.original.text == note.read_text()
        assert (stored.original.title, stored.original.metadata) == ("Raft", {"team": "storage"})
        batch = client.ingest([{"content": "Paxos is a consensus protocol.", "id": "paxos"}])
        assert batch.results[0].document_id == "paxos"
        client.delete_document(document_id)
        client.delete_document("paxos")
        with pytest.raises(NotFoundError):
            client.get_document(document_id)


def test_webhooks_can_be_registered_listed_and_removed(live: LiveApi) -> None:
    with RagkubeClient(live.url, api_key=live.admin_key) as client:
        created = client.create_webhook("http://127.0.0.1:9/hook", ["query.completed"])
        assert len(created.secret) >= 16
        assert created.id in {hook.id for hook in client.list_webhooks()}
        client.delete_webhook(created.id)
        assert created.id not in {hook.id for hook in client.list_webhooks()}


def test_a_rate_limited_call_is_retried_after_the_servers_retry_after(live: LiveApi) -> None:
    with RagkubeClient(live.limited_url, api_key=live.limited_keys[0]) as client:
        for _ in range(live.limited_requests):
            client.list_documents(limit=1)
        started = time.monotonic()
        page = client.list_documents(limit=1)  # refused once with 429, then admitted
        waited = time.monotonic() - started
    assert page.total >= 3
    assert waited >= 0.9 * live.limited_window_seconds


def test_without_retries_a_rate_limited_call_raises_with_retry_after(live: LiveApi) -> None:
    policy = RetryPolicy(max_retries=0)
    with RagkubeClient(live.limited_url, api_key=live.limited_keys[1], retry=policy) as client:
        for _ in range(live.limited_requests):
            client.list_documents(limit=1)
        with pytest.raises(RateLimitedError) as caught:
            client.list_documents(limit=1)
    assert caught.value.retry_after is not None
    assert 1 <= caught.value.retry_after <= live.limited_window_seconds
    assert caught.value.request_id


def test_a_retry_after_longer_than_the_bound_is_not_waited_for(live: LiveApi) -> None:
    policy = RetryPolicy(max_wait_seconds=0.1)
    with RagkubeClient(live.limited_url, api_key=live.limited_keys[2], retry=policy) as client:
        for _ in range(live.limited_requests):
            client.list_documents(limit=1)
        started = time.monotonic()
        with pytest.raises(RateLimitedError):
            client.list_documents(limit=1)
    assert time.monotonic() - started < 0.5


def test_a_streamed_answer_arrives_as_sources_tokens_and_a_final_event(live: LiveApi) -> None:
    with RagkubeClient(live.url, api_key=live.api_key) as client:
        events = list(client.query_stream("What is BM25?", max_results=2))
    assert isinstance(events[0], SourcesEvent)
    assert events[0].sources[0].metadata["source"] == "bm25.md"
    tokens = [e for e in events if isinstance(e, TokenEvent)]
    assert tokens
    final = events[-1]
    assert isinstance(final, FinalEvent)
    assert final.request_id
    assert "".join(t.text for t in tokens).strip() == final.answer.strip()


def test_a_streamed_query_is_retried_when_rate_limited(live: LiveApi) -> None:
    with RagkubeClient(live.limited_url, api_key=live.limited_keys[3]) as client:
        for _ in range(live.limited_requests):
            client.list_documents(limit=1)
        text = client.answer("What is Chroma?")
    assert "Chroma" in text
