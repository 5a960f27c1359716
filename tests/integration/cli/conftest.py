"""A live API server for the CLI tests, and a CLI runner with a private config directory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.integration.sdk.live_api import LiveApi, live_api


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveApi]:
    """The real app on loopback ports (see tests/integration/sdk/live_api.py)."""
    with live_api(tmp_path_factory.mktemp("live-api-cli")) as api:
        yield api


@pytest.fixture
def runner(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """Runs `ragkube ...` in process; saved tokens go to a temporary config directory."""
    monkeypatch.setenv("RAGKUBE_CONFIG_DIR", str(tmp_path / "config"))
    for name in ("RAGKUBE_URL", "RAGKUBE_API_KEY", "RAGKUBE_TOKEN", "RAGKUBE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return CliRunner()
