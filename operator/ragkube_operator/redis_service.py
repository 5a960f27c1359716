"""The headless Service giving the managed Redis pod the name in the API's REDIS_URL."""

from __future__ import annotations

from typing import Any

from ragkube_operator import labels
from ragkube_operator.headless_service import headless_service
from ragkube_operator.models import RagDeployment
from ragkube_operator.redis_config import REDIS_PORT


def redis_service(rd: RagDeployment) -> dict[str, Any]:
    """The headless Service `<rd>-redis` on `REDIS_PORT`."""
    return headless_service(rd, labels.REDIS, labels.redis_name(rd.name), REDIS_PORT, "redis")
