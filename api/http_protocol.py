"""Connection hygiene for `ragkube serve`: deadlines a slow client cannot stretch, and a cap on
requests in flight.

uvicorn bounds only the idle time between requests (its keep-alive timeout). A client that
connects and sends its headers a byte at a time, or that starts a body and never finishes it,
holds a connection and a request slot for as long as it likes; enough such clients starve
everyone else. Here:

- `BoundedHttpToolsProtocol` gives every request `HTTP_HEADER_TIMEOUT_SECONDS` from the start
  of the connection (or the end of the previous response) to complete its headers; after that
  the client gets a 408 envelope and the connection is closed.
- `ConnectionLimits` (outermost ASGI layer) answers 503 + Retry-After in the error envelope
  once `HTTP_MAX_CONCURRENCY` requests are in flight in this worker (overload is worth
  retrying, unlike a request over one of the cost limits), and gives a request body
  `HTTP_BODY_TIMEOUT_SECONDS` between chunks before answering 408. Probe and scrape paths are
  never refused: a kubelet must not restart a pod because it is busy.

The header deadline travels to uvicorn's worker processes in the environment, like the other
values `api.serve.run` decides for them.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from api.errors import envelope, envelope_bytes

HEADER_TIMEOUT_ENV = "HTTP_HEADER_TIMEOUT_SECONDS"
DEFAULT_HEADER_TIMEOUT_SECONDS = 10.0


def _request_timeout_response() -> bytes:
    body = json.dumps(
        envelope("request_timeout", "The request's headers did not arrive in time.")
    ).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a deadline for each request's headers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timeout = float(
            os.environ.get(HEADER_TIMEOUT_ENV, DEFAULT_HEADER_TIMEOUT_SECONDS)
        )
        self._header_deadline: asyncio.TimerHandle | None = None
        self._bytes_since_armed = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_header_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._bytes_since_armed = True
        super().data_received(data)

    def on_response_complete(self) -> None:
        # Armed before uvicorn starts a pipelined request: the deadline checks at expiry
        # whether a request is in progress, so it never cuts one whose headers arrived.
        self._arm_header_deadline()
        super().on_response_complete()

    def _arm_header_deadline(self) -> None:
        self._cancel_header_deadline()
        self._bytes_since_armed = False
        self._header_deadline = self.loop.call_later(self._header_timeout, self._headers_late)

    def _cancel_header_deadline(self) -> None:
        if self._header_deadline is not None:
            self._header_deadline.cancel()
            self._header_deadline = None

    def _headers_late(self) -> None:
        self._header_deadline = None
        cycle = self.cycle
        if (cycle is not None and not cycle.response_complete) or self.transport.is_closing():
            return
        if self._bytes_since_armed:
            # Part of a request arrived: say why it is cut off. An idle connection just closes.
            self.transport.write(_request_timeout_response())
        self.transport.close()


class ConnectionLimits:
    """ASGI layer: at most `max_concurrency` requests in flight, and a deadline per body chunk."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_concurrency: int,
        body_timeout_seconds: float,
        always_admitted: frozenset[str],
    ) -> None:
        self.app = app
        self.max_concurrency = max_concurrency
        self.body_timeout_seconds = body_timeout_seconds
        self.always_admitted = always_admitted
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] not in self.always_admitted and self.in_flight >= self.max_concurrency:
            await _answer(
                send,
                503,
                "overloaded",
                f"The server is answering its limit of {self.max_concurrency} requests at "
                "once (HTTP_MAX_CONCURRENCY); retry shortly.",
                extra_headers=[(b"retry-after", b"1")],
            )
            return
        self.in_flight += 1
        try:
            await self._call_with_body_deadline(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _call_with_body_deadline(self, scope: Scope, receive: Receive, send: Send) -> None:
        body_done = False
        response_started = False
        timed_out = False

        async def bounded_receive() -> Message:
            nonlocal body_done, timed_out
            if body_done:
                # After the body, the app only listens for a disconnect (streaming answers):
                # that wait lasts as long as the response and must not time out.
                return await receive()
            try:
                message = await asyncio.wait_for(receive(), self.body_timeout_seconds)
            except TimeoutError:
                if not response_started:
                    timed_out = True
                    await _answer(
                        send,
                        408,
                        "request_timeout",
                        "The request body stalled for more than "
                        f"{self.body_timeout_seconds:g} seconds (HTTP_BODY_TIMEOUT_SECONDS).",
                        extra_headers=[(b"connection", b"close")],
                    )
                # The app sees the client go away and unwinds; what it sends is dropped.
                body_done = True
                return {"type": "http.disconnect"}
            if message["type"] != "http.request" or not message.get("more_body", False):
                body_done = True
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if timed_out:
                return
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        await self.app(scope, bounded_receive, tracking_send)


async def _answer(
    send: Send,
    status: int,
    error: str,
    message: str,
    *,
    extra_headers: list[tuple[bytes, bytes]],
) -> None:
    body = envelope_bytes(status, error, message)
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *extra_headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
