"""Inputs the schemathesis run found answering 5xx, kept as regression tests."""

from __future__ import annotations

import pytest

from tests.support.api_harness import ApiFactory


@pytest.mark.xfail(
    strict=True,
    reason=(
        "rag_core bug: LexicalIndex.build() raises ValueError (bm25s: max() of an empty "
        "vocabulary) when every indexed chunk has no terms, e.g. the first document is '0'; "
        "the chunks are already written to Chroma when the 500 is answered."
    ),
)
async def test_a_document_without_words_in_an_empty_index_is_not_a_server_error(
    make_api: ApiFactory,
) -> None:
    async with make_api() as api:
        response = await api.client.post(
            "/documents", json={"documents": [{"content": "0"}]}, headers=api.svc
        )
        assert response.status_code < 500, response.text
