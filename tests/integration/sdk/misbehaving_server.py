"""A real HTTP server on loopback that answers badly on purpose, for client-failure tests.

It speaks raw HTTP/1.1 over a socket, so a test can send what no well-behaved framework
would: a proxy's HTML page, truncated JSON, a body cut mid-chunk, a stream that stops
without its final event, or nothing at all. Each connection gets one answer from the
test's `Answer` function; `hits` counts the requests that arrived.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

#: Writes one answer to the connection (it may also sleep, or close without a word).
Answer = Callable[[socket.socket], None]


def http_response(
    status: str,
    body: bytes = b"",
    *,
    content_type: str = "application/json",
    headers: Iterable[str] = (),
) -> bytes:
    """A complete HTTP/1.1 response with a Content-Length and `Connection: close`."""
    lines = [
        f"HTTP/1.1 {status}",
        f"content-length: {len(body)}",
        f"content-type: {content_type}",
        "connection: close",
        *headers,
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def send(response: bytes) -> Answer:
    """An answer that writes `response` as it is."""
    return lambda conn: conn.sendall(response)


def event_stream(events: Iterable[str], *, finish: bool = True) -> Answer:
    """A chunked `text/event-stream` 200; `finish=False` drops the connection mid-body."""

    def answer(conn: socket.socket) -> None:
        conn.sendall(
            b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
            b"transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
        )
        for event in events:
            data = event.encode()
            conn.sendall(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        if finish:
            conn.sendall(b"0\r\n\r\n")

    return answer


def silence(seconds: float) -> Answer:
    """Accept the request and say nothing for `seconds`."""
    return lambda _conn: time.sleep(seconds)


def trickle(seconds: float, interval: float = 0.2) -> Answer:
    """Headers for a large body, then one byte per `interval` for `seconds`."""

    def answer(conn: socket.socket) -> None:
        conn.sendall(b"HTTP/1.1 200 OK\r\ncontent-length: 100000\r\n\r\n")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            conn.sendall(b" ")
            time.sleep(interval)

    return answer


@dataclass
class MisbehavingServer:
    """Where the server listens and what it has seen."""

    url: str
    hits: int = 0
    request_heads: list[bytes] = field(default_factory=list)


@contextmanager
def misbehaving_server(*answers: Answer) -> Iterator[MisbehavingServer]:
    """Serve `answers` in turn, one per request (the last one repeats)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.1)
    server = MisbehavingServer(url=f"http://127.0.0.1:{listener.getsockname()[1]}")
    lock = threading.Lock()
    stopping = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(10)
            head = _read_request(conn)
            if head is None:
                return
            with lock:
                index = min(server.hits, len(answers) - 1)
                server.hits += 1
                server.request_heads.append(head)
            # OSError: the client gave up first, which is what some tests provoke.
            with contextlib.suppress(OSError):
                answers[index](conn)

    def accept() -> None:
        while not stopping.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue  # look at `stopping` again: closing does not wake a blocked accept
            except OSError:
                return
            conn.settimeout(None)
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)


def _read_request(conn: socket.socket) -> bytes | None:
    """The request's head, after its body has been read (so closing never resets it)."""
    data = b""
    try:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                return None
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value.strip())
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    except OSError:
        return None
    return head
