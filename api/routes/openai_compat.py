"""An OpenAI-compatible face: POST /v1/chat/completions and GET /v1/models.

Any OpenAI SDK can ask the knowledge base: point `base_url` at `<api>/v1`, pass an API key
(or a JWT) as `api_key`, and send the question as the last user message. The answer is the
assistant message; the sources and confidence travel in the extension field `ragkube`
on the completion (and on the last chunk when streaming):

    "ragkube": {"sources": [{"content", "similarity", "metadata"}], "confidence": 0.71,
                "guardrails_triggered": [], "request_id": "..."}

Retrieval options go in the request's `ragkube` field (`extra_body={"ragkube": {...}}` in the
Python SDK): max_results, threshold, mode, filters, use_guardrails, conversation_id.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from api.deps import QueryCaller, RagDep, RequestInfoDep, ServicesDep, SettingsDep
from api.errors import ApiError
from api.logging import truncate
from api.models import (
    MAX_QUERY_CHARS,
    MIN_QUERY_CHARS,
    ChatCompletionRequest,
    QueryRequest,
    RagkubeOptions,
)
from api.routes.query import answer
from api.settings import Settings
from rag_core.errors import LimitExceeded

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


def _check_limits(body: ChatCompletionRequest, settings: Settings) -> None:
    """Refuse a request over CHAT_MAX_MESSAGES or CHAT_MAX_CHARS before any work on it."""
    if len(body.messages) > settings.chat_max_messages:
        raise LimitExceeded(
            f"The request holds {len(body.messages)} messages; at most "
            f"{settings.chat_max_messages} are allowed.",
            limit="chat_max_messages",
            maximum=settings.chat_max_messages,
        )
    characters = sum(len(message.text()) for message in body.messages)
    if characters > settings.chat_max_chars:
        raise LimitExceeded(
            f"The messages hold {characters} characters of text; at most "
            f"{settings.chat_max_chars} are allowed altogether.",
            limit="chat_max_chars",
            maximum=settings.chat_max_chars,
        )


def _question(body: ChatCompletionRequest) -> str:
    for message in reversed(body.messages):
        if message.role == "user":
            text = message.text().strip()
            if text:
                return text
    raise ApiError(422, "validation_error", "The request has no user message with text.")


@router.get("/models")
async def list_models(settings: SettingsDep, _caller: QueryCaller) -> dict[str, Any]:
    """The one model this service offers: its knowledge base."""
    return {
        "object": "list",
        "data": [{"id": settings.app_name, "object": "model", "created": 0, "owned_by": "ragkube"}],
    }


@router.post("/chat/completions")
async def chat_completions(
    body: ChatCompletionRequest,
    rag: RagDep,
    services: ServicesDep,
    info: RequestInfoDep,
    caller: QueryCaller,
    settings: SettingsDep,
) -> Any:
    """Answer the last user message from the knowledge base, OpenAI-style."""
    _check_limits(body, settings)
    question = _question(body)
    options = body.ragkube or RagkubeOptions()
    try:
        # The whole question or none: a cut one would be answered as a different question.
        query = QueryRequest(query=question, **options.model_dump())
    except ValueError as exc:
        raise ApiError(
            422,
            "validation_error",
            f"The question must be {MIN_QUERY_CHARS} to {MAX_QUERY_CHARS} characters.",
        ) from exc
    info.extra["query"] = truncate(question)
    payload = await answer(query, rag, services, info.request_id, caller)
    created = int(time.time())
    completion_id = f"chatcmpl-{info.request_id}"
    extension = {
        "sources": payload["sources"],
        "confidence": payload["confidence"],
        "guardrails_triggered": payload["guardrails_triggered"],
        "request_id": info.request_id,
    }
    if not body.stream:
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": body.model,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": payload["answer"]},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "ragkube": extension,
        }

    def chunk(
        delta: dict[str, Any], finish: str | None, extra: dict[str, Any] | None = None
    ) -> str:
        data: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": body.model,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
        }
        if extra is not None:
            data["ragkube"] = extra
        return f"data: {json.dumps(data, separators=(',', ':'))}\n\n"

    async def stream() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""}, None)
        yield chunk({"content": payload["answer"]}, None)
        yield chunk({}, "stop", extension)
        yield "data: [DONE]\n\n"

    return StreamingResponse(stream(), media_type="text/event-stream")
