"""The one ASGI middleware every HTTP request passes: id, limits, metrics, the request log line.

It is plain ASGI rather than Starlette's BaseHTTPMiddleware, so streaming answers pass
through untouched and the per-request cost stays at a few dictionary operations. In order,
for each request it:

1. accepts or generates the X-Request-ID and binds it for logs and error bodies;
2. refuses bodies larger than MAX_REQUEST_BYTES with 413 (by Content-Length up front, and by
   counting the bytes actually received for chunked uploads);
3. identifies the caller (JWT subject, API key name, or client IP) once, for both the rate
   limit and the route's authentication dependency;
4. applies the rate limit (429 + Retry-After) and adds X-RateLimit-* to the response;
5. records `rag_requests_total`, `rag_request_duration_seconds` and `rag_active_requests`
   under the route template, and writes one log line: request_id, user, method, route,
   status, latency;
6. turns any unexpected exception into a 500 envelope (logged once, with its traceback).

Probe and scrape paths (/health, /ready, /metrics) are exempt from the rate limit: a kubelet
or Prometheus must never be throttled into restarting pods or losing data.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import structlog
from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.auth import AuthError, CredentialStore, Principal, TokenService, looks_like_jwt
from api.errors import envelope_bytes
from api.metrics import UNMATCHED_ENDPOINT, Metrics
from api.rate_limit import ClientAddressResolver, Decision, LimiterUnavailable, RateLimiter
from api.request_context import REQUEST_ID_HEADER, accept_or_generate, set_request_id, set_user

log = structlog.get_logger("api.access")

SCOPE_KEY = "ragkube.request"


@dataclass
class RequestInfo:
    """What the middleware learned about a request, shared with the route's dependencies."""

    request_id: str
    client_ip: str
    principal: Principal | None = None
    auth_error: str | None = None  # why presented credentials were refused
    credentials_presented: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Gate:
    """The pieces the middleware consults; filled in by the app's lifespan."""

    limiter: RateLimiter | None = None
    credentials: CredentialStore | None = None
    tokens: TokenService | None = None


def bearer_or_key(headers: Headers) -> str | None:
    """The credential a request presents: `X-API-Key`, or the value of a Bearer header."""
    key = headers.get("x-api-key")
    if key:
        return key.strip()
    authorization = headers.get("authorization")
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    return None


def identify(credential: str | None, gate: Gate) -> tuple[Principal | None, str | None]:
    """The principal a credential proves, or why it proves nothing."""
    if credential is None:
        return None, None
    if looks_like_jwt(credential):
        if gate.tokens is None:
            return None, "Tokens are not accepted yet."
        try:
            return gate.tokens.verify(credential), None
        except AuthError as exc:
            return None, str(exc)
    if gate.credentials is None:
        return None, "API keys are not accepted yet."
    principal = gate.credentials.authenticate_api_key(credential)
    return (principal, None) if principal is not None else (None, "The API key is not valid.")


class RequestMiddleware:
    """See the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        gate: Gate,
        addresses: ClientAddressResolver,
        max_body_bytes: int,
        exempt_paths: frozenset[str],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.gate = gate
        self.addresses = addresses
        self.max_body_bytes = max_body_bytes
        self.exempt_paths = exempt_paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = Headers(scope=scope)
        request_id = accept_or_generate(headers.get(REQUEST_ID_HEADER))
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        set_request_id(request_id)
        set_user(None)
        peer = scope.get("client")
        client_ip = self.addresses.client_ip(
            peer[0] if peer else None, headers.get("x-forwarded-for")
        )
        info = RequestInfo(request_id=request_id, client_ip=client_ip)
        scope[SCOPE_KEY] = info
        path: str = scope["path"]
        status_holder = [500]
        extra_headers: dict[str, str] = {REQUEST_ID_HEADER: request_id}
        self.metrics.active_requests.inc()
        try:
            early = await self._gatekeep(scope, headers, info, path, extra_headers)
            if early is not None:
                status, error, message = early
                await self._send_error(send, status, error, message, extra_headers)
                status_holder[0] = status
                return
            await self._call_app(scope, receive, send, extra_headers, status_holder)
        finally:
            self.metrics.active_requests.dec()
            self._record(scope, info, status_holder[0], started)

    async def _gatekeep(
        self,
        scope: Scope,
        headers: Headers,
        info: RequestInfo,
        path: str,
        extra_headers: dict[str, str],
    ) -> tuple[int, str, str] | None:
        length = headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_body_bytes:
            return (
                413,
                "payload_too_large",
                (f"The request body is larger than the limit of {self.max_body_bytes} bytes."),
            )
        credential = bearer_or_key(headers)
        info.credentials_presented = credential is not None
        info.principal, info.auth_error = identify(credential, self.gate)
        if info.principal is not None:
            set_user(info.principal.label)
            structlog.contextvars.bind_contextvars(user=info.principal.label)
        if path in self.exempt_paths or self.gate.limiter is None:
            return None
        identity = info.principal.label if info.principal else f"ip:{info.client_ip}"
        try:
            decision: Decision = await self.gate.limiter.hit(identity)
        except LimiterUnavailable:
            return (
                503,
                "rate_limiter_unavailable",
                (
                    "The rate limiter cannot be reached and this service is configured to refuse "
                    "requests until it can."
                ),
            )
        extra_headers.update(decision.headers())
        if not decision.allowed:
            return (
                429,
                "rate_limited",
                (
                    f"Rate limit of {decision.limit} requests exceeded; "
                    f"retry in {max(1, decision.retry_after)} seconds."
                ),
            )
        return None

    async def _call_app(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        extra_headers: dict[str, str],
        status_holder: list[int],
    ) -> None:
        received = 0
        limit = self.max_body_bytes
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise StarletteHTTPException(
                        413, f"The request body is larger than the limit of {limit} bytes."
                    )
            return message

        async def send_with_headers(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
                status_holder[0] = message["status"]
                mutable = MutableHeaders(scope=message)
                for name, value in extra_headers.items():
                    if name not in mutable:
                        mutable[name] = value
            await send(message)

        try:
            await self.app(scope, limited_receive, send_with_headers)
        except Exception as exc:
            # Whatever escaped the app's own handlers: log it once, answer with the envelope.
            log.error("unhandled_exception", error_type=type(exc).__name__, exc_info=exc)
            status_holder[0] = 500
            if not response_started:
                await self._send_error(
                    send, 500, "internal_error", "An internal error occurred.", extra_headers
                )

    async def _send_error(
        self, send: Send, status: int, error: str, message: str, extra_headers: dict[str, str]
    ) -> None:
        body = envelope_bytes(status, error, message)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers.extend((k.lower().encode(), v.encode()) for k, v in extra_headers.items())
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    def _record(self, scope: Scope, info: RequestInfo, status: int, started: float) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        endpoint = getattr(route, "path", None) or UNMATCHED_ENDPOINT
        method = scope["method"]
        self.metrics.requests.labels(method, endpoint, str(status)).inc()
        self.metrics.request_duration.labels(method, endpoint).observe(elapsed)
        log.info(
            "request",
            method=method,
            route=endpoint,
            status=status,
            latency_ms=round(elapsed * 1000, 2),
            user=info.principal.label if info.principal else None,
            client_ip=info.client_ip,
            **info.extra,
        )
