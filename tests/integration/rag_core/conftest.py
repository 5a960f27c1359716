"""Fixtures for rag_core integration tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.rag_core.rag_llm_stand_in import StandInLLM, running_stand_in


@pytest.fixture
def stand_in_llm() -> Iterator[StandInLLM]:
    """A fresh stand-in OpenAI-compatible server on a free loopback port."""
    with running_stand_in() as llm:
        yield llm
