"""An optional API came or went (a CRD of the Gateway API or the Prometheus Operator).

Without this, a RagDeployment asking for an HTTPRoute before the Gateway API is installed
would get its route only at the next resync (minutes later); with it, every RagDeployment is
reconciled as soon as the CRD changes, and its conditions follow.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Final

from ragkube_operator import kinds
from ragkube_operator.handlers.rag_deployment import reconcile_by_name
from ragkube_operator.operator_state import OperatorState

#: Names of the CustomResourceDefinitions of the optional kinds (`<plural>.<group>`).
OPTIONAL_CRDS: Final = frozenset(
    f"{kind.plural}.{kind.api_version.split('/')[0]}" for kind in kinds.OPTIONAL_APIS
)


def is_optional_api(body: Mapping[str, Any]) -> bool:
    """Whether a CustomResourceDefinition defines one of the optional child kinds."""
    return (body.get("metadata") or {}).get("name") in OPTIONAL_CRDS


async def on_crd_event(state: OperatorState, rag_deployments: Iterable[tuple[str, str]]) -> None:
    """Forget what discovery said and reconcile each RagDeployment (namespace, name)."""
    state.api.forget_discovery()
    for namespace, name in sorted(set(rag_deployments)):
        await reconcile_by_name(state, namespace, name)
