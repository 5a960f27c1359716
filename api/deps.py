"""Dependencies routes declare with `Annotated` aliases (the full-stack template's `deps.py`).

Everything a route needs — the RAG system, the settings, the caller — arrives through these,
built once in the app's lifespan and kept on `app.state.services`.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, OAuth2PasswordBearer
from redis.asyncio import Redis

from api.answer_cache import AnswerCache
from api.auth import CredentialStore, Principal, TokenService
from api.errors import ApiError
from api.metrics import Metrics
from api.middleware import SCOPE_KEY, RequestInfo
from api.settings import Settings
from api.webhooks import URLGuard, WebhookDispatcher
from rag_core import RAGSystem


@dataclass
class Services:
    """What the lifespan builds for one app."""

    settings: Settings
    rag: RAGSystem
    metrics: Metrics
    credentials: CredentialStore
    tokens: TokenService
    cache: AnswerCache
    webhooks: WebhookDispatcher
    url_guard: URLGuard
    redis: Redis[str] | None
    started_at: float = field(default_factory=time.time)


def get_services(request: Request) -> Services:
    """The app's services (built by the lifespan)."""
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


def get_rag(request: Request) -> RAGSystem:
    """The RAG system."""
    return get_services(request).rag


RagDep = Annotated[RAGSystem, Depends(get_rag)]


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return get_services(request).settings


SettingsDep = Annotated[Settings, Depends(get_settings)]


def get_request_info(request: Request) -> RequestInfo:
    """What the request middleware learned (request id, client IP, caller)."""
    info: RequestInfo = request.scope[SCOPE_KEY]
    return info


RequestInfoDep = Annotated[RequestInfo, Depends(get_request_info)]

# Declared so /openapi.json documents both ways to authenticate; the credential itself was
# already verified once by the request middleware, whose verdict is used below.
_oauth2 = OAuth2PasswordBearer(
    tokenUrl="/auth/login",
    scopes={
        "query": "Ask questions and read documents.",
        "ingest": "Add and delete documents.",
        "admin": "Manage webhooks; implies every other scope.",
    },
    auto_error=False,
)
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False)


def _unauthorized(message: str, token_presented: bool) -> ApiError:
    challenge = 'Bearer error="invalid_token"' if token_presented else "Bearer"
    return ApiError(401, "unauthorized", message, headers={"WWW-Authenticate": challenge})


async def current_principal(
    request: Request,
    _token: Annotated[str | None, Depends(_oauth2)],
    _key: Annotated[str | None, Depends(_api_key)],
) -> Principal:
    """The authenticated caller, holding no more than the users file grants its user now
    (a token's scopes are what it was issued with); 401 with WWW-Authenticate otherwise."""
    info = get_request_info(request)
    if info.principal is None:
        if info.auth_error is not None:
            raise _unauthorized(info.auth_error, token_presented=True)
        raise _unauthorized("Authentication is required.", token_presented=False)
    principal = info.principal
    if principal.kind == "user":
        credentials = get_services(request).credentials
        if credentials.path is not None:
            granted = credentials.user_scopes(principal.name)
            if granted is None:
                raise _unauthorized("The token's user no longer exists.", token_presented=True)
            principal = principal.limited_to(granted)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_scope(scope: str) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency admitting callers that hold `scope` (403 otherwise)."""

    async def dependency(principal: CurrentPrincipal) -> Principal:
        if not principal.has(scope):
            raise ApiError(
                403,
                "forbidden",
                f"This operation needs the {scope!r} scope.",
                details={"scope": scope},
            )
        return principal

    return dependency


QueryCaller = Annotated[Principal, Depends(require_scope("query"))]
IngestCaller = Annotated[Principal, Depends(require_scope("ingest"))]
AdminCaller = Annotated[Principal, Depends(require_scope("admin"))]
