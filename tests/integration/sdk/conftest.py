"""A live API server (real app, real model, embedded Chroma) shared by the SDK tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.sdk.live_api import LiveApi, live_api


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """Two uvicorn servers on loopback ports; see `live_api` for what each one is for."""
    with live_api(tmp_path_factory.mktemp("live-api")) as api:
        yield api
