"""A slow or greedy client cannot hold the server: deadlines for headers, bodies and idle
connections, and a cap on requests in flight, in the API started as its image starts it.

The deadlines are set short here (1-3 s) so each case takes seconds; the defaults are in
docs/operations.md ("Limits").
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.api_process import ApiProcess, image_entrypoint_process

HEADER_TIMEOUT = 1.0
BODY_TIMEOUT = 3.0
KEEP_ALIVE = 1
MAX_CONCURRENCY = 2


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ApiProcess]:
    directory: Path = tmp_path_factory.mktemp("hygiene")
    env = {
        "HTTP_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "HTTP_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
        "HTTP_KEEP_ALIVE_TIMEOUT_SECONDS": str(KEEP_ALIVE),
        "HTTP_MAX_CONCURRENCY": str(MAX_CONCURRENCY),
        "RATE_LIMIT_REQUESTS": "10000",
    }
    with image_entrypoint_process(env, directory) as running:
        yield running


def _connect(server: ApiProcess) -> socket.socket:
    conn = socket.create_connection(("127.0.0.1", server.port), timeout=15)
    return conn


def _read_until_closed(conn: socket.socket, limit: float) -> tuple[bytes, float]:
    """Everything the server sends until it closes the connection, and how long that took."""
    started = time.monotonic()
    conn.settimeout(limit)
    received = b""
    try:
        while chunk := conn.recv(65536):
            received += chunk
    except TimeoutError:
        pytest.fail(f"the server still held the connection after {limit:.0f} s")
    return received, time.monotonic() - started


def _read_response(conn: socket.socket) -> bytes:
    """One whole response (headers and its Content-Length body)."""
    conn.settimeout(10)
    received = b""
    while b"\r\n\r\n" not in received:
        received += conn.recv(65536)
    head, _, body = received.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        body += conn.recv(65536)
    return head + b"\r\n\r\n" + body


def _envelope(response: bytes) -> tuple[int, dict[str, object]]:
    head, _, body = response.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def test_headers_sent_a_byte_at_a_time_are_cut_off_with_a_408(server: ApiProcess) -> None:
    with _connect(server) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        response, took = _read_until_closed(conn, limit=10 * HEADER_TIMEOUT)
    status, body = _envelope(response)
    assert status == 408
    assert body["error"] == "request_timeout"
    assert took < 5 * HEADER_TIMEOUT


def test_a_stalled_request_body_is_answered_408_and_the_connection_closed(
    server: ApiProcess,
) -> None:
    with _connect(server) as conn:
        conn.sendall(
            b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"query": "'
        )
        response, took = _read_until_closed(conn, limit=10 * BODY_TIMEOUT)
    status, body = _envelope(response)
    assert status == 408
    assert body["error"] == "request_timeout"
    assert "HTTP_BODY_TIMEOUT_SECONDS" in str(body["message"])
    assert took < 3 * BODY_TIMEOUT


def test_an_idle_keep_alive_connection_is_closed_after_its_timeout(server: ApiProcess) -> None:
    with _connect(server) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        first = _read_response(conn)
        assert first.startswith(b"HTTP/1.1 200")
        rest, took = _read_until_closed(conn, limit=10 * KEEP_ALIVE)
    assert rest == b""
    assert took < 5 * KEEP_ALIVE


def test_a_full_worker_answers_503_with_retry_after_but_probes_still_pass(
    server: ApiProcess,
) -> None:
    # Two requests whose bodies never finish occupy both slots until their body deadline.
    holders = [_connect(server) for _ in range(MAX_CONCURRENCY)]
    try:
        for conn in holders:
            conn.sendall(
                b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Content-Length: 100\r\n\r\n{"
            )
        time.sleep(0.5)
        refused = httpx.get(f"{server.url}/stats", timeout=10)
        health = httpx.get(f"{server.url}/health", timeout=10)
        ready = httpx.get(f"{server.url}/ready", timeout=10)
    finally:
        for conn in holders:
            conn.close()

    assert refused.status_code == 503
    assert refused.headers["retry-after"] == "1"
    assert refused.json()["error"] == "overloaded"
    assert "HTTP_MAX_CONCURRENCY" in refused.json()["message"]
    assert health.status_code == 200
    assert ready.status_code == 200


def test_slots_come_back_once_slow_clients_are_gone(server: ApiProcess) -> None:
    holders = [_connect(server) for _ in range(MAX_CONCURRENCY)]
    for conn in holders:
        conn.sendall(
            b"POST /query HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 100\r\n\r\n{"
        )
    for conn in holders:
        _read_until_closed(conn, limit=10 * BODY_TIMEOUT)
        conn.close()

    answered = httpx.get(f"{server.url}/stats", timeout=10)

    assert answered.status_code != 503
