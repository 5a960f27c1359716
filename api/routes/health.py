"""Liveness and readiness probes (paths from the operator contract)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from api.deps import RagDep
from api.errors import ApiError
from api.models import HealthResponse, ReadyResponse
from ragkube_contract import api_image

router = APIRouter(tags=["health"])


@router.get(api_image.LIVENESS_PATH, response_model=HealthResponse)
async def health() -> HealthResponse:
    """Answers while the process can serve requests; touches no dependency."""
    return HealthResponse()


@router.get(
    api_image.READINESS_PATH,
    response_model=ReadyResponse,
    responses={
        503: {
            "description": "A check failed; `details.checks` names it. When the index was "
            "built by another model or chunking, `details.index` holds both identities."
        }
    },
)
async def ready(rag: RagDep) -> ReadyResponse:
    """200 when Chroma answers, the model is loaded and this configuration built the index."""
    checks = await rag.acheck_ready()
    failed = sorted(name for name, ok in checks.items() if not ok)
    if failed:
        plural = "s" if len(failed) > 1 else ""
        message = f"Not ready: the {', '.join(failed)} check{plural} failed."
        details: dict[str, Any] = {"checks": checks, "failed": failed}
        mismatch = rag.index_mismatch
        if mismatch is not None:
            message = f"{message} {mismatch.message}."
            details["index"] = mismatch.details()
        raise ApiError(503, "not_ready", message, details=details)
    return ReadyResponse(checks=checks)
