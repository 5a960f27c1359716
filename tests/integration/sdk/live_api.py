"""A real ragkube API on loopback for SDK tests (Python here, TypeScript via its launcher).

Two uvicorn servers run the real app in one background thread, sharing one `RAGSystem`
(embedded Chroma in a temporary directory, the real MiniLM model, the extractive answerer)
loaded with a small corpus:

* `url`: generous rate limit, for everything but rate limiting;
* `limited_url`: RATE_LIMIT_REQUESTS=2 per 1-second window, to provoke 429s. Each
  rate-limit test uses its own API key from `limited_keys`, so tests never share a window.

`python -m tests.integration.sdk.live_api DIR` prints the connection facts as one JSON line
and serves until its standard input closes or it is terminated.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import uvicorn

from api.app import create_app
from api.auth import hash_api_key, hash_password
from api.settings import Settings
from rag_core import DocumentInput, RAGSystem

USERNAME = "sdk-user"
PASSWORD = "sdk-password-1"
API_KEY = "rk_sdk-test-key-0123456789abcdefghijkl"
ADMIN_KEY = "rk_sdk-admin-key-0123456789abcdefghijk"
QUERY_ONLY_KEY = "rk_sdk-query-only-0123456789abcdefghi"
LIMITED_KEYS = tuple(f"rk_sdk-limited-{n}-0123456789abcdefghij" for n in range(8))
JWT_SECRET = "sdk-test-jwt-secret-" + "s" * 32
LIMITED_REQUESTS = 2
LIMITED_WINDOW_SECONDS = 1

CORPUS = [
    (
        "kubernetes.md",
        "# Kubernetes\n\nA Deployment keeps a set of identical pods running and replaces "
        "pods that fail. The scheduler places pods onto nodes.",
    ),
    (
        "chroma.md",
        "# Chroma\n\nChroma is a vector database. It stores embeddings and answers nearest "
        "neighbour queries with cosine similarity.",
    ),
    (
        "bm25.md",
        "# BM25\n\nBM25 is a lexical ranking function that scores documents by term frequency "
        "and inverse document frequency.",
    ),
]


@dataclass(frozen=True)
class LiveApi:
    """How to reach the running servers and which credentials they accept."""

    url: str
    limited_url: str
    username: str
    password: str
    api_key: str
    admin_key: str
    query_only_key: str
    limited_keys: tuple[str, ...]
    limited_requests: int
    limited_window_seconds: int


def _users_file(directory: Path) -> Path:
    path = directory / "users.json"
    keys = [
        {"name": "sdk", "key_sha256": hash_api_key(API_KEY), "scopes": ["query", "ingest"]},
        {"name": "sdk-admin", "key_sha256": hash_api_key(ADMIN_KEY), "scopes": ["admin"]},
        {"name": "sdk-query", "key_sha256": hash_api_key(QUERY_ONLY_KEY), "scopes": ["query"]},
    ]
    keys += [
        {"name": f"limited-{n}", "key_sha256": hash_api_key(key), "scopes": ["query"]}
        for n, key in enumerate(LIMITED_KEYS)
    ]
    users = [
        {
            "username": USERNAME,
            "password_hash": hash_password(PASSWORD, rounds=4),
            "scopes": ["query", "ingest"],
        }
    ]
    path.write_text(json.dumps({"users": users, "api_keys": keys}))
    return path


def _settings(directory: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "ragkube_env": "development",
        "data_dir": directory / "data",
        "chroma_collection_name": "sdk",
        "jwt_secret_key": JWT_SECRET,
        "users_file": _users_file(directory),
        "rate_limit_requests": 10_000,
        "retrieval_threshold": 0.0,
        "log_level": "WARNING",
        "log_format": "json",
        "enable_metrics": False,
        "webhook_allowlist": ["127.0.0.1/32"],
    }
    values.update(overrides)
    return Settings(**values)


def _loopback_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


@contextmanager
def live_api(directory: Path) -> Iterator[LiveApi]:
    """Start both servers, yield how to reach them, stop them on exit."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    settings = _settings(directory)
    limited = settings.model_copy(
        update={
            "rate_limit_requests": LIMITED_REQUESTS,
            "rate_limit_window": LIMITED_WINDOW_SECONDS,
        }
    )
    sockets = [_loopback_socket(), _loopback_socket()]
    ready = threading.Event()
    failure: list[BaseException] = []
    state: dict[str, Any] = {}

    async def serve() -> None:
        rag = RAGSystem(settings.to_rag_settings())
        await rag.astart()
        try:
            documents = [DocumentInput(content=text, source=name) for name, text in CORPUS]
            results = await rag.aingest(documents)
            if not all(r.ok for r in results):
                raise RuntimeError(f"corpus ingestion failed: {results}")
            servers = [
                uvicorn.Server(
                    uvicorn.Config(
                        create_app(s, rag_system=rag),
                        log_level="warning",
                        access_log=False,
                        log_config=None,
                        lifespan="on",
                    )
                )
                for s in (settings, limited)
            ]
            state["servers"] = servers
            state["loop"] = asyncio.get_running_loop()
            tasks = [
                asyncio.create_task(server.serve(sockets=[sock]))
                for server, sock in zip(servers, sockets, strict=True)
            ]
            while not all(server.started for server in servers):
                if any(task.done() for task in tasks):
                    break
                await asyncio.sleep(0.05)
            if not all(server.started for server in servers):
                raise RuntimeError("a test API server did not start")
            ready.set()
            await asyncio.gather(*tasks)
        finally:
            await rag.aclose()

    def thread_main() -> None:
        try:
            asyncio.run(serve())
        except BaseException as exc:
            failure.append(exc)
        finally:
            ready.set()

    thread = threading.Thread(target=thread_main, name="live-api", daemon=True)
    thread.start()
    ready.wait(timeout=300)
    if failure or not ready.is_set():
        raise RuntimeError("the live API did not start") from (failure[0] if failure else None)
    url, limited_url = (f"http://127.0.0.1:{sock.getsockname()[1]}" for sock in sockets)
    try:
        yield LiveApi(
            url=url,
            limited_url=limited_url,
            username=USERNAME,
            password=PASSWORD,
            api_key=API_KEY,
            admin_key=ADMIN_KEY,
            query_only_key=QUERY_ONLY_KEY,
            limited_keys=LIMITED_KEYS,
            limited_requests=LIMITED_REQUESTS,
            limited_window_seconds=LIMITED_WINDOW_SECONDS,
        )
    finally:
        for server in state.get("servers", []):
            server.should_exit = True
        thread.join(timeout=30)
        for sock in sockets:
            sock.close()


def main() -> None:
    """Serve until stdin closes or SIGTERM; print the connection facts as one JSON line."""
    directory = Path(sys.argv[1])
    directory.mkdir(parents=True, exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())

    def watch_stdin() -> None:
        sys.stdin.read()
        stop.set()

    with live_api(directory) as api:
        facts = asdict(api)
        facts["limited_keys"] = list(api.limited_keys)
        print(json.dumps(facts), flush=True)
        threading.Thread(target=watch_stdin, daemon=True).start()
        stop.wait()


if __name__ == "__main__":
    main()
