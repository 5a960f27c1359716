"""The headless Service giving the lexical index server the name in the API's LEXICAL_INDEX_URL."""

from __future__ import annotations

from typing import Any

from ragkube_contract import index_server
from ragkube_operator import labels
from ragkube_operator.headless_service import headless_service
from ragkube_operator.models import RagDeployment


def index_service(rd: RagDeployment) -> dict[str, Any]:
    """The headless Service `<rd>-index` on `index_server.INDEX_PORT`."""
    return headless_service(
        rd, labels.LEXICAL_INDEX, labels.index_name(rd.name), index_server.INDEX_PORT, "http"
    )
