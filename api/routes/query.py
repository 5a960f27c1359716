"""POST /query (the seed's contract) and POST /query/stream (server-sent events)."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.answer_cache import cache_key
from api.auth import Principal
from api.deps import QueryCaller, RagDep, RequestInfoDep, Services, ServicesDep
from api.errors import ApiError, envelope, map_rag_error
from api.logging import truncate
from api.models import QueryRequest, QueryResponse, SourceOut
from rag_core import RAGSystem
from rag_core.answers import QueryResult
from rag_core.errors import RagError
from rag_core.filters import validate_filters
from rag_core.settings import RagSettings
from rag_core.system import DEGRADED

router = APIRouter(tags=["query"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid credentials."},
    403: {
        "description": (
            "The caller lacks the `query` scope, or asks for `use_guardrails: false` without "
            "the `admin` scope (unless GUARDRAILS_ALLOW_OPT_OUT is true)."
        )
    },
    429: {"description": "Rate limit exceeded; see Retry-After."},
    503: {"description": "The vector store or language model is unavailable."},
}


def query_options(body: QueryRequest, settings: RagSettings) -> dict[str, Any]:
    """The keyword arguments of `RAGSystem.aquery` a request sets.

    What the request leaves out is the deployment's (RETRIEVAL_TOP_K, RETRIEVAL_THRESHOLD,
    RETRIEVAL_MODE), filled in here so that the answer cache keys on the values the answer
    was made with: the shared cache outlives a change of settings by its TTL.
    """
    return {
        "max_results": settings.top_k if body.max_results is None else body.max_results,
        "threshold": settings.threshold if body.threshold is None else body.threshold,
        "mode": body.mode or settings.retrieval_mode,
        "filters": body.filters,
        "use_guardrails": body.use_guardrails,
        "conversation_id": body.conversation_id,
    }


def check_guardrails_choice(use_guardrails: bool, caller: Principal, services: Services) -> None:
    """Refuse `use_guardrails: false` (403) unless the caller is an admin or the deployment
    lets every caller turn them off (GUARDRAILS_ALLOW_OPT_OUT); otherwise any key holder
    could skip the rules meant to protect the data behind it."""
    settings = services.settings
    if use_guardrails or not settings.guardrails_enabled:
        return
    if caller.has("admin") or settings.guardrails_allow_opt_out:
        return
    raise ApiError(
        403,
        "forbidden",
        "Turning guardrails off (use_guardrails: false) needs the 'admin' scope; a deployment "
        "can let every caller do it with GUARDRAILS_ALLOW_OPT_OUT=true.",
        details={"scope": "admin", "field": "use_guardrails"},
    )


def result_payload(result: QueryResult) -> dict[str, Any]:
    """The cacheable part of an answer."""
    return {
        "answer": result.answer,
        "sources": [
            {"content": s.content, "similarity": s.similarity, "metadata": s.metadata}
            for s in result.sources
        ],
        "confidence": result.confidence,
        "guardrails_triggered": list(result.guardrails_triggered),
    }


async def answer(
    body: QueryRequest, rag: RAGSystem, services: Services, request_id: str, caller: Principal
) -> dict[str, Any]:
    """Answer a query through the cache; publishes query.completed or query.failed.

    The input guardrails judge the query as sent before the cache is consulted: a cached
    answer is only ever served to a query the rules let through, whatever the query that
    filled the entry looked like. The key holds the index version read from the storage tier
    now, so a write on any replica retires every earlier entry at once.
    """
    check_guardrails_choice(body.use_guardrails, caller, services)
    validate_filters(body.filters, rag.settings)  # before they are hashed for the cache key
    options = query_options(body, rag.settings)
    key: str | None = None
    payload: dict[str, Any] | None = None
    blocked = bool(rag.input_guardrails(body.query, body.use_guardrails))
    if body.conversation_id is None and not blocked:
        key = cache_key(await rag.acurrent_index_version(), body.query, options)
        payload = await services.cache.get(key)
        services.metrics.answer_cache.labels("hit" if payload is not None else "miss").inc()
    if payload is None:
        try:
            result = await rag.aquery(body.query, **options, caller=caller.label)
        except RagError as exc:
            await services.webhooks.publish(
                "query.failed",
                {"request_id": request_id, "query": body.query, "error": map_rag_error(exc).error},
            )
            raise
        services.metrics.observe_query(result.confidence, result.timings)
        payload = result_payload(result)
        # A degraded answer stands in for a failing LLM or lexical index; keep it out of the
        # cache so the full answer comes back as soon as the failing part recovers.
        if key is not None and DEGRADED.isdisjoint(result.guardrails_triggered):
            await services.cache.put(key, payload)
    await services.webhooks.publish(
        "query.completed",
        {
            "request_id": request_id,
            "user": caller.label,
            "query": body.query,
            "confidence": payload["confidence"],
            "sources": len(payload["sources"]),
            "guardrails_triggered": payload["guardrails_triggered"],
        },
    )
    return payload


@router.post("/query", response_model=QueryResponse, responses=_ERRORS)
async def query(
    body: QueryRequest,
    rag: RagDep,
    services: ServicesDep,
    info: RequestInfoDep,
    caller: QueryCaller,
) -> QueryResponse:
    """Answer a question from the knowledge base, with the sources it rests on."""
    started = time.perf_counter()
    info.extra["query"] = truncate(body.query)
    payload = await answer(body, rag, services, info.request_id, caller)
    return QueryResponse(
        request_id=info.request_id,
        query=body.query,
        answer=payload["answer"],
        sources=[SourceOut(**s) for s in payload["sources"]],
        confidence=payload["confidence"],
        processing_time=round(time.perf_counter() - started, 6),
        timestamp=dt.datetime.now(dt.UTC),
        guardrails_triggered=payload["guardrails_triggered"],
    )


def sse(event: str, data: dict[str, Any]) -> str:
    """One server-sent event."""
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


@router.post(
    "/query/stream",
    responses={
        **_ERRORS,
        200: {
            "description": (
                "Server-sent events: `sources` (the retrieved passages), then `token` events "
                '(`{"text": ...}`), then `final` (confidence, guardrails_triggered, timings, '
                "request_id, processing_time). A failure after the stream began is sent as an "
                "`error` event carrying the error envelope."
            ),
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
        },
    },
)
async def query_stream(
    body: QueryRequest,
    rag: RagDep,
    services: ServicesDep,
    info: RequestInfoDep,
    caller: QueryCaller,
) -> StreamingResponse:
    """Stream the answer as it is generated."""
    started = time.perf_counter()
    info.extra["query"] = truncate(body.query)
    check_guardrails_choice(body.use_guardrails, caller, services)
    options = query_options(body, rag.settings)
    events = rag.astream(body.query, **options, caller=caller.label).__aiter__()
    try:
        # Fetch the first event before answering, so a failure to retrieve is a proper
        # HTTP error rather than a 200 with an error event.
        first = await events.__anext__()
    except StopAsyncIteration:
        first = None
    except RagError as exc:
        await services.webhooks.publish(
            "query.failed",
            {"request_id": info.request_id, "query": body.query, "error": map_rag_error(exc).error},
        )
        raise

    async def stream() -> AsyncIterator[str]:
        pending = first
        try:
            while pending is not None:
                data = dict(pending.data)
                if pending.type == "final":
                    data["request_id"] = info.request_id
                    data["processing_time"] = round(time.perf_counter() - started, 6)
                    confidence = float(data.get("confidence", 0.0))
                    services.metrics.observe_query(confidence, dict(data.get("timings", {})))
                    await services.webhooks.publish(
                        "query.completed",
                        {
                            "request_id": info.request_id,
                            "user": caller.label,
                            "query": body.query,
                            "confidence": confidence,
                            "guardrails_triggered": data.get("guardrails_triggered", []),
                            "streamed": True,
                        },
                    )
                yield sse(pending.type, data)
                try:
                    pending = await events.__anext__()
                except StopAsyncIteration:
                    pending = None
        except RagError as exc:
            error = map_rag_error(exc)
            yield sse("error", envelope(error.error, error.message, request_id=info.request_id))

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )
