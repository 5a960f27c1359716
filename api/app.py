"""The application factory: `create_app(settings)` builds one FastAPI app, nothing at import.

Clients and the RAG system are created in the lifespan (model load, Redis connection,
webhook worker) and handed to routes through `api.deps`. Tests build their own apps with
their own settings; several apps can live in one process.
"""

from __future__ import annotations

import asyncio
import importlib.util
import secrets
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any

import structlog
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.openapi.utils import get_openapi
from pydantic.json_schema import models_json_schema
from redis.asyncio import Redis

from api.answer_cache import (
    AnswerCache,
    DisabledAnswerCache,
    InProcessAnswerCache,
    RedisAnswerCache,
)
from api.auth import CredentialStore, TokenService
from api.deps import Services
from api.errors import install_error_handlers
from api.lexical_repair import LexicalRepairer
from api.logging import configure_logging
from api.metrics import Metrics
from api.middleware import Gate, RequestMiddleware
from api.models import DocumentBatch
from api.rate_limit import (
    ClientAddressResolver,
    InProcessRateLimiter,
    RateLimiter,
    RedisRateLimiter,
)
from api.routes import auth, documents, health, openai_compat, query, stats, webhooks
from api.settings import Settings
from api.webhooks import RetryPolicy, URLGuard, WebhookDispatcher, WebhookRegistry
from api.webhooks.delivery_queue import DeliveryQueue, InProcessDeliveryQueue, RedisDeliveryQueue
from rag_core import RAGSystem
from rag_core.index_identity import rebuild_hint
from rag_core.redis_client import redis_client
from ragkube_contract import api_image

log = structlog.get_logger("api.app")
#: Longest wait for each step of shutdown (worker stop, RAG system, Redis pool).
SHUTDOWN_STEP_SECONDS = 15.0


async def _shut_down(step: str, closing: Awaitable[None]) -> None:
    """Await one shutdown step, but never for ever: a pod's termination must not hang on a
    stuck connection. A step that overruns is logged and left behind."""
    try:
        async with asyncio.timeout(SHUTDOWN_STEP_SECONDS):
            await closing
    except TimeoutError:
        log.error("shutdown_step_timed_out", step=step, seconds=SHUTDOWN_STEP_SECONDS)


EXEMPT_FROM_RATE_LIMIT = frozenset(
    {api_image.LIVENESS_PATH, api_image.READINESS_PATH, api_image.METRICS_PATH}
)


def _jwt_secret(settings: Settings) -> str:
    if settings.jwt_secret_key is not None:
        return settings.jwt_secret_key.get_secret_value()
    # Development only (production refuses to start without one, see Settings): tokens
    # signed with this key die with the process, which is what a laptop session needs.
    log.warning("jwt_secret_generated", reason="JWT_SECRET_KEY is not set (development mode)")
    return secrets.token_urlsafe(48)


def _limiter(settings: Settings, redis: Redis[str] | None) -> RateLimiter:
    if redis is not None:
        return RedisRateLimiter(
            redis,
            settings.rate_limit_requests,
            settings.rate_limit_window,
            prefix=settings.redis_key_prefix,
            fail_open=settings.rate_limit_on_redis_error == "open",
        )
    return InProcessRateLimiter(settings.rate_limit_requests, settings.rate_limit_window)


def _cache(settings: Settings, redis: Redis[str] | None) -> AnswerCache:
    if settings.answer_cache_ttl_seconds == 0:
        return DisabledAnswerCache()
    if redis is not None:
        return RedisAnswerCache(redis, settings.redis_key_prefix, settings.answer_cache_ttl_seconds)
    return InProcessAnswerCache(
        settings.answer_cache_ttl_seconds, settings.answer_cache_max_entries
    )


def _dispatcher(
    settings: Settings, redis: Redis[str] | None, metrics: Metrics, guard: URLGuard
) -> WebhookDispatcher:
    queue: DeliveryQueue = (
        RedisDeliveryQueue(redis, settings.redis_key_prefix)
        if redis is not None
        else InProcessDeliveryQueue()
    )
    return WebhookDispatcher(
        WebhookRegistry(redis, settings.redis_key_prefix, settings.webhooks_file),
        queue,
        guard,
        metrics,
        retry=RetryPolicy(
            max_attempts=settings.webhook_max_attempts,
            base_seconds=settings.webhook_backoff_base_seconds,
            max_seconds=settings.webhook_backoff_max_seconds,
        ),
        timeout_seconds=settings.webhook_timeout_seconds,
        poll_seconds=settings.webhook_poll_seconds,
    )


def _init_sentry(settings: Settings) -> None:
    if settings.sentry_dsn is None or importlib.util.find_spec("sentry_sdk") is None:
        return
    import sentry_sdk

    sentry_sdk.init(
        dsn=settings.sentry_dsn.get_secret_value(),
        environment=settings.ragkube_env,
        send_default_pii=False,
        traces_sample_rate=0.0,
    )


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated schema, plus the JSON ingestion body declared by hand on POST /documents."""
    if app.openapi_schema is None:
        schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
        _, extra = models_json_schema(
            [(DocumentBatch, "validation")], ref_template="#/components/schemas/{model}"
        )
        schema.setdefault("components", {}).setdefault("schemas", {}).update(extra.get("$defs", {}))
        app.openapi_schema = schema
    return app.openapi_schema


def create_app(settings: Settings, *, rag_system: RAGSystem | None = None) -> FastAPI:
    """Build the API app for `settings`.

    `rag_system`, when given, is used instead of building one; the caller started it and
    will close it (tests share one loaded model across many apps this way).
    """
    configure_logging(settings.log_level, settings.effective_log_format)
    _init_sentry(settings)
    metrics = Metrics()
    gate = Gate()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        redis_url = settings.redis_url_value()
        redis = redis_client(redis_url) if redis_url else None
        rag = rag_system or RAGSystem(settings.to_rag_settings())
        if rag_system is None:
            await rag.astart()
        mismatch = rag.index_mismatch
        if mismatch is not None:
            # Said at start, where whoever changed the model looks: the pod stays unready.
            log.error(
                "index_model_mismatch",
                message=f"{mismatch.message}. Queries and writes are refused (503).",
                rebuild=rebuild_hint(rag.settings),
            )
        credentials = CredentialStore(settings.users_file)
        credentials.load_or_raise()
        tokens = TokenService(
            _jwt_secret(settings),
            settings.jwt_algorithm,
            settings.jwt_expire_minutes,
            settings.app_name,
        )
        guard = URLGuard(settings.webhook_allowlist)
        dispatcher = _dispatcher(settings, redis, metrics, guard)
        app.state.services = Services(
            settings=settings,
            rag=rag,
            metrics=metrics,
            credentials=credentials,
            tokens=tokens,
            cache=_cache(settings, redis),
            webhooks=dispatcher,
            url_guard=guard,
            redis=redis,
        )
        gate.limiter = _limiter(settings, redis)
        gate.credentials = credentials
        gate.tokens = tokens
        if settings.ingest_sample_corpus and mismatch is None:
            await _ingest_sample_corpus(rag)
        dispatcher.start()
        repairer = LexicalRepairer(
            rag,
            metrics,
            interval_seconds=settings.lexical_repair_interval_seconds,
            page_documents=settings.lexical_repair_page_documents,
            pause_seconds=settings.lexical_repair_pause_seconds,
        )
        repairer.start()
        app.state.lexical_repairer = repairer
        log.info("api_started", env=settings.ragkube_env, redis=redis is not None)
        try:
            yield
        finally:
            await _shut_down("lexical_repair", repairer.stop())
            await _shut_down("webhook_worker", dispatcher.stop())
            if rag_system is None:
                await _shut_down("rag_system", rag.aclose())
            if redis is not None:
                await _shut_down("redis", redis.aclose())  # type: ignore[attr-defined]

    app = FastAPI(
        title=settings.app_name,
        version="0.1.0",
        description="Ask questions of your documents: retrieval-augmented answers with sources.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for router in (
        health.router,
        query.router,
        documents.router,
        auth.router,
        webhooks.router,
        openai_compat.router,
        stats.router,
    ):
        app.include_router(router)
    if settings.enable_metrics:
        app.include_router(stats.metrics_router())
    app.add_middleware(
        RequestMiddleware,
        metrics=metrics,
        gate=gate,
        addresses=ClientAddressResolver(settings.trusted_proxies),
        max_body_bytes=settings.max_request_bytes,
        exempt_paths=EXEMPT_FROM_RATE_LIMIT,
    )
    if settings.allowed_origins:
        # Outermost, so even 413 and 429 answers carry CORS headers a browser can read.
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.allowed_origins,
            allow_methods=["GET", "POST", "DELETE", "OPTIONS"],
            allow_headers=["Authorization", "Content-Type", "X-API-Key", "X-Request-ID"],
            expose_headers=[
                "X-Request-ID",
                "Retry-After",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
            ],
        )
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


async def _ingest_sample_corpus(rag: RAGSystem) -> None:
    """Ingest rag_core's bundled sample corpus into an empty collection (embedded default)."""
    from rag_core.samples import sample_documents

    stats_now = await rag.astats()
    if int(stats_now.get("documents", 0)) > 0:
        return
    results = await rag.aingest(sample_documents())
    log.info("sample_corpus_ingested", documents=sum(1 for r in results if r.ok))
