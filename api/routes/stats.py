"""Collection statistics (authenticated) and the Prometheus exposition."""

from __future__ import annotations

import time

from fastapi import APIRouter, Response

from api.deps import CurrentPrincipal, RagDep, ServicesDep
from api.models import IndexIdentityOut, StatsResponse
from ragkube_contract import api_image

router = APIRouter(tags=["observability"])


@router.get("/stats", response_model=StatsResponse)
async def stats(rag: RagDep, services: ServicesDep, _caller: CurrentPrincipal) -> StatsResponse:
    """Documents, chunks and the retrieval configuration of this deployment."""
    rag_stats = await rag.astats()
    documents = int(rag_stats.get("documents", 0))
    identity = rag_stats.get("index")
    services.metrics.documents_stored.set(documents)
    return StatsResponse(
        documents=documents,
        chunks=int(rag_stats.get("chunks", 0)),
        index_version=str(rag_stats.get("index_version", "")),
        uptime_seconds=round(time.time() - services.started_at, 3),
        rag=rag_stats,
        index=IndexIdentityOut(**identity) if identity is not None else None,
    )


def metrics_router() -> APIRouter:
    """The /metrics route; mounted only when ENABLE_METRICS is true."""
    metrics = APIRouter(tags=["observability"])

    @metrics.get(api_image.METRICS_PATH, response_class=Response, include_in_schema=False)
    async def exposition(services: ServicesDep) -> Response:
        """Prometheus text format."""
        return Response(services.metrics.exposition(), media_type=services.metrics.content_type)

    return metrics
