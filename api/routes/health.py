"""Liveness and readiness probes (paths from the operator contract)."""

from __future__ import annotations

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
    responses={503: {"description": "A check failed; `details.checks` names it."}},
)
async def ready(rag: RagDep) -> ReadyResponse:
    """200 when the vector store answers and the model is loaded; 503 naming what failed."""
    checks = await rag.acheck_ready()
    failed = sorted(name for name, ok in checks.items() if not ok)
    if failed:
        raise ApiError(
            503,
            "not_ready",
            f"Not ready: the {', '.join(failed)} check{'s' if len(failed) > 1 else ''} failed.",
            details={"checks": checks, "failed": failed},
        )
    return ReadyResponse(checks=checks)
