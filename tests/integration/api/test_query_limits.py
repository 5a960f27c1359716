"""Every query has a bounded cost: filters, chat messages and questions over their limits are
refused with a 400 naming the limit (never a 503, which clients retry), the same way on every
route and in every retrieval mode."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.settings import Settings
from tests.support.api_harness import Api, ApiFactory

MODES = ["dense", "lexical", "hybrid"]
ROUTES = ["/query", "/query/stream", "/v1/chat/completions"]


async def ask(
    api: Api, route: str, filters: dict[str, Any], mode: str = "hybrid"
) -> httpx.Response:
    """The question 'what stores embeddings?' with these filters, as `route` takes it."""
    options = {"filters": filters, "mode": mode}
    question = "what stores embeddings?"
    if route == "/v1/chat/completions":
        body = {
            "model": "ragkube",
            "messages": [{"role": "user", "content": question}],
            "ragkube": options,
        }
    else:
        body = {"query": question, **options}
    return await api.client.post(route, json=body, headers=api.svc)


def assert_limit(response: httpx.Response, limit: str, maximum: int) -> None:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "limit_exceeded"
    assert body["details"] == {"limit": limit, "maximum": maximum}
    assert str(maximum) in body["message"]
    assert "Retry-After" not in response.headers


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("route", ROUTES)
async def test_too_many_filter_fields_is_a_400_naming_the_limit(
    api: Api, route: str, mode: str
) -> None:
    await api.ingest_corpus()
    filters = {f"field{n}": "x" for n in range(17)}
    assert_limit(await ask(api, route, filters, mode), "max_filter_keys", 16)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("route", ROUTES)
async def test_a_huge_in_list_is_a_400_not_a_retryable_503(api: Api, route: str, mode: str) -> None:
    # 40,000 values had become 40,000 SQL variables in Chroma: "too many SQL variables", 503.
    await api.ingest_corpus()
    filters = {"year": {"$in": list(range(40_000))}}
    assert_limit(await ask(api, route, filters, mode), "max_filter_values", 256)


@pytest.mark.parametrize("mode", MODES)
async def test_values_are_counted_across_all_filter_fields(api: Api, mode: str) -> None:
    await api.ingest_corpus()
    filters = {"year": {"$in": list(range(200))}, "topic": {"$in": [f"t{n}" for n in range(57)]}}
    assert_limit(await ask(api, "/query", filters, mode), "max_filter_values", 256)


@pytest.mark.parametrize("mode", MODES)
async def test_filters_at_the_limit_narrow_retrieval_and_one_value_more_is_refused(
    api: Api, mode: str
) -> None:
    await api.ingest_corpus()
    topics = ["storage", *(f"topic{n}" for n in range(255))]
    response = await ask(api, "/query", {"topic": {"$in": topics}}, mode)
    assert response.status_code == 200, response.text
    sources = response.json()["sources"]
    assert sources
    assert {s["metadata"]["document_id"] for s in sources} == {"chroma"}
    over = {"topic": {"$in": topics}, "year": 2022}
    assert_limit(await ask(api, "/query", over, mode), "max_filter_values", 256)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("field", ["#document", "#embedding", "#metadata"])
async def test_chroma_internal_fields_are_refused_in_our_own_words(
    api: Api, mode: str, field: str
) -> None:
    await api.ingest_corpus()
    response = await ask(api, "/query", {field: "Chroma"}, mode)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_query"
    assert "is not a metadata field name" in body["message"]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize(
    "values", [[2014, "x"], [2014, 2022.5], [True, 2014]], ids=["text", "decimal", "boolean"]
)
async def test_a_mixed_type_in_list_gets_the_same_400_in_every_mode(
    api: Api, mode: str, values: list[object]
) -> None:
    await api.ingest_corpus()
    response = await ask(api, "/query", {"year": {"$in": values}}, mode)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_query"
    assert "mixes value types" in response.json()["message"]


async def test_filter_limits_follow_the_settings(make_api: ApiFactory) -> None:
    async with make_api(max_filter_keys=2, max_filter_values=3) as api:
        await api.ingest_corpus()
        too_many = {"topic": "storage", "year": 2022, "extra": "x"}
        assert_limit(await ask(api, "/query", too_many), "max_filter_keys", 2)
        assert_limit(
            await ask(api, "/query", {"topic": {"$in": ["a", "b", "c", "d"]}}),
            "max_filter_values",
            3,
        )
        within = await ask(api, "/query", {"topic": {"$in": ["storage", "b"]}, "year": 2022})
        assert within.status_code == 200, within.text


def chat(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return {"model": "ragkube", "messages": messages}


async def test_a_chat_with_too_many_messages_is_a_400_naming_the_limit(api: Api) -> None:
    messages = [{"role": "user", "content": f"question number {n}?"} for n in range(101)]
    response = await api.client.post("/v1/chat/completions", json=chat(messages), headers=api.svc)
    assert_limit(response, "chat_max_messages", 100)


async def test_a_chat_with_too_much_text_is_a_400_naming_the_limit(api: Api) -> None:
    history = [
        {"role": "user", "content": "a" * 60_000},
        {"role": "assistant", "content": [{"type": "text", "text": "b" * 40_000}]},
        {"role": "user", "content": "what stores embeddings?"},
    ]
    response = await api.client.post("/v1/chat/completions", json=chat(history), headers=api.svc)
    assert_limit(response, "chat_max_chars", 100_000)


async def test_chat_limits_follow_the_settings(make_api: ApiFactory) -> None:
    async with make_api(chat_max_messages=2, chat_max_chars=1000) as api:
        await api.ingest_corpus()
        three = [{"role": "user", "content": "what stores embeddings?"}] * 3
        response = await api.client.post("/v1/chat/completions", json=chat(three), headers=api.svc)
        assert_limit(response, "chat_max_messages", 2)
        long = [{"role": "system", "content": "s" * 990}, {"role": "user", "content": "x" * 20}]
        response = await api.client.post("/v1/chat/completions", json=chat(long), headers=api.svc)
        assert_limit(response, "chat_max_chars", 1000)
        two = three[:2]
        response = await api.client.post("/v1/chat/completions", json=chat(two), headers=api.svc)
        assert response.status_code == 200, response.text


async def test_a_chat_question_over_the_query_limit_is_refused_not_cut(api: Api) -> None:
    # It had been cut to its first 1000 characters and answered as a different question.
    question = "What stores embeddings? " + "Please explain in detail. " * 60
    assert len(question) > 1000
    messages = [{"role": "user", "content": question}]
    response = await api.client.post("/v1/chat/completions", json=chat(messages), headers=api.svc)
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert "1000" in response.json()["message"]


def test_conversation_length_is_bounded_by_a_setting() -> None:
    with pytest.raises(ValueError, match="conversation_turns"):
        Settings(conversation_turns=1_000_000)
