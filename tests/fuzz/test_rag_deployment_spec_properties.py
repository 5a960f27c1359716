"""Property tests of RagDeployment spec validation and of the builders fed by it.

For any autoscaling and retrieval numbers, the spec model accepts exactly the specs the CRD's
bounds and CEL rules accept, and every accepted spec builds a complete plan of children.
"""

from __future__ import annotations

from typing import Any

import pydantic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ragkube_operator.children import plan
from ragkube_operator.models import RagDeployment

numbers = st.integers(min_value=-5, max_value=10_000)


def body(spec: dict[str, Any]) -> dict[str, Any]:
    return {"metadata": {"name": "docs", "namespace": "team", "uid": "u-1"}, "spec": spec}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    enabled=st.booleans(),
    min_replicas=numbers,
    max_replicas=numbers,
    chunk_size=numbers,
    chunk_overlap=numbers,
    top_k=numbers,
)
def test_spec_is_accepted_exactly_when_bounds_and_cross_field_rules_hold(
    enabled: bool,
    min_replicas: int,
    max_replicas: int,
    chunk_size: int,
    chunk_overlap: int,
    top_k: int,
) -> None:
    spec = {
        "api": {
            "autoscaling": {
                "enabled": enabled,
                "minReplicas": min_replicas,
                "maxReplicas": max_replicas,
            }
        },
        "retrieval": {"chunkSize": chunk_size, "chunkOverlap": chunk_overlap, "topK": top_k},
    }
    valid = (
        1 <= min_replicas <= 100
        and 1 <= max_replicas <= 100
        and min_replicas <= max_replicas
        and 16 <= chunk_size <= 8192
        and 0 <= chunk_overlap <= 4096
        and chunk_overlap < chunk_size
        and 1 <= top_k <= 20
    )

    try:
        rd = RagDeployment.from_body(body(spec))
    except pydantic.ValidationError:
        accepted = False
    else:
        accepted = True

    assert accepted == valid, spec
    if accepted:
        children = plan(
            rd,
            secret_values={"jwt-secret-key": "k" * 48, "chroma-auth-token": "t" * 48},
            webhooks=[],
            hmac_keys={},
            served=frozenset(),
        )
        kinds = {child["kind"] for child in children.apply}
        assert {"ConfigMap", "Deployment", "Service", "StatefulSet"} <= kinds
        assert ("HorizontalPodAutoscaler" in kinds) == enabled
