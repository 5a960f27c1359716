"""Inputs the schemathesis run found answering 5xx, kept as regression tests."""

from __future__ import annotations

from tests.support.api_harness import ApiFactory


async def test_a_document_without_words_in_an_empty_index_is_not_a_server_error(
    make_api: ApiFactory,
) -> None:
    async with make_api() as api:
        response = await api.client.post(
            "/documents", json={"documents": [{"content": "0"}]}, headers=api.svc
        )
        assert response.status_code == 201, response.text
        # Stored, never matched lexically; queries over such an index still answer.
        listed = await api.client.get("/documents", headers=api.svc)
        assert listed.json()["total"] == 1
        for mode in ("lexical", "hybrid"):
            answer = await api.client.post(
                "/query", json={"query": "What is 0?", "mode": mode}, headers=api.svc
            )
            assert answer.status_code == 200, answer.text


async def test_metadata_keys_chroma_refuses_are_a_422_not_a_failed_batch(
    make_api: ApiFactory,
) -> None:
    async with make_api() as api:
        for key in ("", "#document", "$where"):
            documents = [{"content": "A fine document."}, {"content": "x y", "metadata": {key: 1}}]
            response = await api.client.post(
                "/documents", json={"documents": documents}, headers=api.svc
            )
            assert response.status_code == 422, (key, response.text)
            upload = await api.client.post(
                "/documents",
                files={"files": ("a.txt", b"Some text here.", "text/plain")},
                data={"metadata": f'{{"{key}": 1}}'},
                headers=api.svc,
            )
            assert upload.status_code == 422, (key, upload.text)


async def test_lone_surrogates_in_documents_are_not_a_server_error(make_api: ApiFactory) -> None:
    async with make_api() as api:
        for body in (
            b'{"documents": [{"content": "text \\ud800 here"}]}',
            b'{"documents": [{"content": "text", "metadata": {"k": "\\udfff"}}]}',
            b'{"documents": [{"content": "text", "source": "\\ud800.txt"}]}',
        ):
            response = await api.client.post(
                "/documents", content=body, headers={**api.svc, "Content-Type": "application/json"}
            )
            assert response.status_code == 422, (body, response.text)
        for metadata in ('{"k": "\\udfff"}', '{"\\ud800": 1}', "[" * 100_000):
            upload = await api.client.post(
                "/documents",
                files={"files": ("a.txt", b"Some text here.", "text/plain")},
                data={"metadata": metadata},
                headers=api.svc,
            )
            assert upload.status_code == 422, (metadata[:20], upload.text)
