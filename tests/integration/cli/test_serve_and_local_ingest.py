"""`ragkube serve` as a real process, and `ragkube ingest --local` straight into rag_core."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ragkube_cli.main import app

RAGKUBE = Path(sys.executable).with_name("ragkube")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli_env(tmp_path: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("RAGKUBE_", "USERS_FILE", "JWT_", "DATA_DIR", "CHROMA_"))
    }
    env.update(
        {
            "RAGKUBE_CONFIG_DIR": str(tmp_path / "config"),
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            "ANONYMIZED_TELEMETRY": "False",
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, dict[str, str]]]:
    """`ragkube serve` on a free port with its own data dir; (url, admin password, env)."""
    env = cli_env(tmp_path)
    port = free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(RAGKUBE), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            if process.poll() is not None:
                pytest.fail(f"ragkube serve exited with {process.returncode}:\n{log.read_text()}")
            try:
                if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"ragkube serve was not ready in time:\n{log.read_text()}")
            time.sleep(0.5)
        found = re.search(r"Created user 'admin' with password: (\S+)", log.read_text())
        assert found, log.read_text()
        yield url, found.group(1), env
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_serve_runs_the_api_that_login_and_query_then_use(
    served: tuple[str, str, dict[str, str]],
) -> None:
    url, password, env = served
    login = subprocess.run(
        [str(RAGKUBE), "login", "--url", url, "--username", "admin"],
        env={**env, "RAGKUBE_PASSWORD": password},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert login.returncode == 0, login.stderr
    query = subprocess.run(
        [str(RAGKUBE), "query", "What is ragkube?", "--url", url, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert query.returncode == 0, query.stderr
    assert json.loads(query.stdout)["request_id"]


def test_local_ingest_writes_into_the_store_serve_would_use(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from api.settings import Settings
    from rag_core import RAGSystem

    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGKUBE_CONFIG_DIR", str(tmp_path / "config"))
    folder = tmp_path / "notes"
    folder.mkdir()
    (folder / "quorum.md").write_text("# Quorum\n\nA quorum is a majority of voting members.")
    (folder / "empty.txt").write_text("   ")
    result = CliRunner().invoke(app, ["ingest", "--local", str(folder), "--json"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.stdout)
    assert (report["ingested"], report["failed"]) == (1, 1)

    async def stored_sources() -> set[str | None]:
        rag = RAGSystem(Settings().to_rag_settings())
        await rag.astart()
        try:
            documents, _ = await rag.alist_documents(offset=0, limit=10)
            return {d.source for d in documents}
        finally:
            await rag.aclose()

    assert asyncio.run(stored_sources()) == {"quorum.md"}


def test_local_ingest_into_an_unreachable_chroma_server_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("RAGKUBE_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setenv("CHROMA_HOST", "127.0.0.1")
    monkeypatch.setenv("CHROMA_PORT", str(free_port()))  # nothing listens there
    monkeypatch.setenv("CHROMA_TIMEOUT_SECONDS", "2")
    note = tmp_path / "quorum.md"
    note.write_text("# Quorum\n\nA quorum is a majority of voting members.")
    result = CliRunner().invoke(app, ["ingest", "--local", str(note)])
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "error:" in result.stderr
    assert "vector store" in result.stderr.lower() or "chroma" in result.stderr.lower()


def serve_until(
    tmp_path: Path, env: dict[str, str], log: Path, ready_status: int
) -> subprocess.Popen[bytes]:
    """`ragkube serve` on the test's data dir, once /ready answers `ready_status`."""
    port = free_port()
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [str(RAGKUBE), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")],
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 240
    while True:
        if process.poll() is not None:
            pytest.fail(f"ragkube serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            status = httpx.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code
            if status == ready_status:
                return process
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            pytest.fail(f"/ready never answered {ready_status}:\n{log.read_text()}")
        time.sleep(0.5)


def stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def test_serve_on_data_built_with_other_chunking_says_so_at_start(tmp_path: Path) -> None:
    env = cli_env(tmp_path)
    stop(serve_until(tmp_path, env, tmp_path / "first.log", 200))  # ingests the sample corpus

    changed = serve_until(tmp_path, {**env, "CHUNK_SIZE": "128"}, tmp_path / "second.log", 503)
    stop(changed)

    said = (tmp_path / "second.log").read_text()
    assert "index_model_mismatch" in said
    assert "128 tokens with" in said
    assert "There is no re-index command yet" in said
    assert "ragkube serve --data-dir" in said
    assert str(tmp_path / "data") in said
