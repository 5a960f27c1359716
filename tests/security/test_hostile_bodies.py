"""Oversized, malformed and hostile request bodies get 4xx envelopes, never a 5xx or a hang.

Also: file names in uploads cannot climb out of their directory, whatever encoding they use.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.api_harness import Api, ApiFactory

LIMIT = 64 * 1024


def _assert_envelope(body: dict[str, object], error: str | None = None) -> None:
    assert {"error", "message", "request_id", "timestamp"} <= set(body), body
    if error is not None:
        assert body["error"] == error, body
    assert "Traceback" not in str(body)


async def test_declared_oversized_bodies_get_413_before_anything_is_read(
    make_api: ApiFactory,
) -> None:
    async with make_api(max_request_bytes=LIMIT) as api:
        for path in ("/query", "/documents", "/auth/login", "/v1/chat/completions"):
            response = await api.client.post(
                path,
                content=b"x" * (LIMIT + 1),
                headers={**api.svc, "Content-Type": "application/json"},
            )
            assert response.status_code == 413, (path, response.text)
            _assert_envelope(response.json(), "payload_too_large")


async def test_chunked_oversized_bodies_are_cut_off_with_413(make_api: ApiFactory) -> None:
    async def endless() -> AsyncIterator[bytes]:
        # No Content-Length: the limit must be enforced on the bytes actually received.
        yield b'{"documents": [{"content": "'
        for _ in range(LIMIT // 1024 + 2):
            yield b"y" * 1024
        yield b'"}]}'

    async with make_api(max_request_bytes=LIMIT) as api:
        response = await api.client.post(
            "/documents",
            content=endless(),
            headers={**api.svc, "Content-Type": "application/json"},
        )
        assert response.status_code == 413, response.text
        _assert_envelope(response.json(), "payload_too_large")
        stats = await api.client.get("/stats", headers=api.svc)
        assert stats.json()["documents"] == 0


MALFORMED_JSON = [
    pytest.param(b"{", id="truncated"),
    pytest.param(b"\xff\xfe\x00garbage", id="not utf-8"),
    pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply nested arrays"),
    pytest.param(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, id="deeply nested objects"),
    pytest.param(b'{"query": NaN}', id="NaN"),
    pytest.param(b'{"query": "\\ud800 lone surrogate"}', id="lone surrogate"),
    pytest.param(b"null", id="null"),
    pytest.param(b'"just a string"', id="string"),
    pytest.param(b'{"query": "' + b"\x00" * 10 + b'"}', id="raw NULs"),
]


@pytest.mark.parametrize("payload", MALFORMED_JSON)
@pytest.mark.parametrize("path", ["/query", "/query/stream", "/documents", "/v1/chat/completions"])
async def test_malformed_json_gets_a_4xx_envelope(api: Api, path: str, payload: bytes) -> None:
    response = await api.client.post(
        path, content=payload, headers={**api.svc, "Content-Type": "application/json"}
    )
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:300])
    _assert_envelope(response.json())


async def test_wrong_types_and_extreme_values_get_422(api: Api) -> None:
    cases = [
        ("/query", {"query": ["a", "list"]}),
        ("/query", {"query": "valid question", "max_results": 10**30}),
        ("/query", {"query": "valid question", "filters": {"a": {"$where": "1"}}}),
        ("/query", {"query": "x" * 100_000}),
        ("/documents", {"documents": "not a list"}),
        ("/documents", {"documents": [{"content": 123}]}),
        ("/documents", {"documents": [{"content": "ok", "metadata": {"a": {"nested": 1}}}]}),
        ("/webhooks", {"url": "not a url", "events": ["query.completed"]}),
        ("/v1/chat/completions", {"model": "m", "messages": "hello"}),
    ]
    for path, body in cases:
        headers = api.admin if path == "/webhooks" else api.svc
        response = await api.client.post(path, json=body, headers=headers)
        assert response.status_code in (400, 422), (path, body, response.text[:300])
        _assert_envelope(response.json())
    # Infinity as a float literal (1e309) cannot be written with json=, so send it raw.
    response = await api.client.post(
        "/query",
        content=b'{"query": "valid question", "threshold": 1e309}',
        headers={**api.svc, "Content-Type": "application/json"},
    )
    assert response.status_code == 422, response.text


async def test_malformed_multipart_gets_a_4xx_envelope(api: Api) -> None:
    cases = [
        ("multipart/form-data", b"no boundary at all"),
        ("multipart/form-data; boundary=xyz", b"--xyz\r\nContent-Disposition: form-data\r\n"),
        ("multipart/form-data; boundary=xyz", b"--xyz--\r\n"),
    ]
    for content_type, payload in cases:
        response = await api.client.post(
            "/documents", content=payload, headers={**api.svc, "Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, (payload, response.text[:300])
        _assert_envelope(response.json())


TRAVERSAL_NAMES = [
    "../../../../etc/passwd",
    "..\\..\\..\\windows\\system32\\config\\sam",
    "/etc/shadow",
    "C:\\Windows\\win.ini",
    "%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "..%2F..%2Fsecret.txt",
    "....//....//etc/hosts",
    "\u2025\u2215etc\u2215passwd",  # two-dot leader and division slash (NFKC tricks)
    "ok.txt\x00.pdf",
    "..",
    ".",
    "",
]


async def test_uploaded_file_names_cannot_traverse_directories(api: Api) -> None:
    files = [
        ("files", (name, f"Harmless upload number {i} about rivers.".encode(), "text/plain"))
        for i, name in enumerate(TRAVERSAL_NAMES)
    ]
    response = await api.client.post("/documents", files=files, headers=api.svc)
    assert response.status_code in (201, 207), response.text
    for result in response.json()["results"]:
        source = result["source"]
        assert source, result
        for forbidden in ("/", "\\", "\x00", "\u2215"):
            assert forbidden not in source, source
        assert not source.startswith(".."), source


async def test_hostile_document_ids_in_paths_are_404_not_500(api: Api) -> None:
    for document_id in ("..%2F..%2Fetc%2Fpasswd", "%00", "x" * 5000, "%ff%fe", "a%2Fb"):
        for method in ("GET", "DELETE"):
            response = await api.client.request(
                method, f"/documents/{document_id}", headers=api.svc
            )
            assert response.status_code in (404, 414, 422), (method, document_id, response.text)
            _assert_envelope(response.json())
