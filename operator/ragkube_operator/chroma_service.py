"""The headless Service giving the Chroma StatefulSet's pod a stable DNS name."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.headless_service import headless_service
from ragkube_operator.models import RagDeployment


def chroma_service(rd: RagDeployment) -> dict[str, Any]:
    """The headless Service `<rd>-chroma` (clusterIP None) on `api_image.CHROMA_PORT`."""
    return headless_service(
        rd, labels.CHROMA, labels.chroma_name(rd.name), api_image.CHROMA_PORT, "http"
    )
