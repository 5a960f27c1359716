"""Hostile or unusual input found answering 5xx or losing data, kept as specifications."""

from __future__ import annotations

import pytest

from tests.support.api_harness import Api

JSON = {"Content-Type": "application/json"}

#: Metadata numbers the vector store cannot keep as given: beyond 64 bits the write fails,
#: NaN and Infinity would silently become nothing.
UNSTORABLE_NUMBERS = [
    pytest.param("100000000000000000000000000000000000000000", id="integer beyond 64 bits"),
    pytest.param("-9223372036854775809", id="integer below 64 bits"),
    pytest.param("NaN", id="NaN"),
    pytest.param("Infinity", id="Infinity"),
    pytest.param("1e999", id="float overflowing to infinity"),
]


@pytest.mark.parametrize("number", UNSTORABLE_NUMBERS)
async def test_unstorable_metadata_numbers_in_a_batch_are_a_422_and_nothing_is_lost(
    api: Api, number: str
) -> None:
    body = (
        '{"documents": [{"id": "fine", "content": "Rivers carry water to the sea."},'
        f' {{"id": "odd", "content": "Mountains are tall.", "metadata": {{"k": {number}}}}}]}}'
    )
    response = await api.client.post(
        "/documents", content=body.encode(), headers={**api.svc, **JSON}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert (await api.client.get("/documents", headers=api.svc)).json()["total"] == 0


@pytest.mark.parametrize("number", UNSTORABLE_NUMBERS)
async def test_unstorable_metadata_numbers_in_an_upload_are_a_422(api: Api, number: str) -> None:
    response = await api.client.post(
        "/documents",
        files={"files": ("a.txt", b"Rivers carry water to the sea.", "text/plain")},
        data={"metadata": f'{{"k": {number}}}'},
        headers=api.svc,
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert (await api.client.get("/documents", headers=api.svc)).json()["total"] == 0


async def test_metadata_numbers_at_the_64_bit_limits_are_stored_exactly(api: Api) -> None:
    metadata = {"big": 2**63 - 1, "small": -(2**63), "huge_float": 1.7e308}
    response = await api.client.post(
        "/documents",
        json={"documents": [{"id": "edges", "content": "Edge values.", "metadata": metadata}]},
        headers=api.svc,
    )
    assert response.status_code == 201, response.text
    stored = await api.client.get("/documents/edges", headers=api.svc)
    assert {k: stored.json()["metadata"][k] for k in metadata} == metadata


MALFORMED_WEBHOOK_URLS = [
    pytest.param("http://127.0.0.1:99999/hook", id="port out of range"),
    pytest.param("http://127.0.0.1:port/hook", id="port not a number"),
    pytest.param("http://[::1/hook", id="unclosed IPv6 bracket"),
    pytest.param("http://[not-an-address]/hook", id="bracketed non-address"),
    pytest.param("http://" + "a" * 64 + ".example/hook", id="DNS label over 63 characters"),
]


@pytest.mark.parametrize("url", MALFORMED_WEBHOOK_URLS)
async def test_malformed_webhook_urls_are_refused_with_a_422(api: Api, url: str) -> None:
    response = await api.client.post(
        "/webhooks", json={"url": url, "events": ["*"]}, headers=api.admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "unsafe_webhook_url"
    assert (await api.client.get("/webhooks", headers=api.admin)).json() == []


#: Filters no document's metadata can satisfy and the vector store fails on (raw JSON text,
#: so that lone surrogates and 65-bit integers reach the server as sent).
UNMATCHABLE_FILTERS = [
    pytest.param('{"k": 100000000000000000000000000000000000000000}', id="integer beyond 64 bits"),
    pytest.param('{"k": {"$in": [1, 100000000000000000000000000000000000000000]}}', id="in big"),
    pytest.param('{"k": "\\ud800"}', id="lone surrogate value"),
    pytest.param('{"\\ud800": "x"}', id="lone surrogate field"),
    pytest.param('{"k": NaN}', id="NaN"),
]


@pytest.mark.parametrize("filters", UNMATCHABLE_FILTERS)
@pytest.mark.parametrize(
    ("path", "template"),
    [
        pytest.param("/query", '{{"query": "what is stored?", "filters": {}}}', id="query"),
        pytest.param("/query/stream", '{{"query": "what is stored?", "filters": {}}}', id="stream"),
        pytest.param(
            "/v1/chat/completions",
            '{{"model": "m", "messages": [{{"role": "user", "content": "what is stored?"}}],'
            ' "ragkube": {{"filters": {}}}}}',
            id="openai",
        ),
    ],
)
async def test_filters_no_metadata_can_hold_are_a_400(
    api: Api, filters: str, path: str, template: str
) -> None:
    await api.ingest_corpus()
    response = await api.client.post(
        path, content=template.format(filters).encode(), headers={**api.svc, **JSON}
    )
    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_query"


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1/hook\r\nX-Injected: 1", id="line break"),
        pytest.param("http://127.0.0.1/ho ok", id="space"),
        pytest.param("http://127.0.0.1/hook\x00", id="NUL"),
    ],
)
async def test_webhook_urls_with_whitespace_or_control_characters_are_refused(
    api: Api, url: str
) -> None:
    # Python's URL parser drops tabs and line breaks: the stored URL would not be the one called.
    response = await api.client.post(
        "/webhooks", json={"url": url, "events": ["*"]}, headers=api.admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"] == "validation_error"
    assert (await api.client.get("/webhooks", headers=api.admin)).json() == []


@pytest.mark.parametrize("document_id", ["a\x00b", "a\x1bb", "a\x7fb"])
async def test_document_ids_with_control_characters_are_refused(api: Api, document_id: str) -> None:
    response = await api.client.post(
        "/documents",
        json={"documents": [{"id": document_id, "content": "Text."}]},
        headers=api.svc,
    )
    assert response.status_code == 422, response.text
    assert (await api.client.get("/documents", headers=api.svc)).json()["total"] == 0
