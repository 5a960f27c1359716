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


def is_established(event_type: str | None, body: Mapping[str, Any]) -> bool:
    """Whether a CRD event leaves the API served: the CRD exists and is Established."""
    if event_type == "DELETED":
        return False
    conditions = (body.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions)


def served_changed(seen: dict[str, bool], event_type: str | None, body: Mapping[str, Any]) -> bool:
    """Record whether this CRD's API is served now; True when that differs from what `seen`
    held (a CRD seen for the first time counts as a change)."""
    name = str((body.get("metadata") or {}).get("name", ""))
    served = is_established(event_type, body)
    if seen.get(name) == served:
        return False
    seen[name] = served
    return True


async def on_crd_event(
    state: OperatorState,
    event_type: str | None,
    body: Mapping[str, Any],
    rag_deployments: Iterable[tuple[str, str]],
) -> None:
    """When an optional API starts or stops being served, forget what discovery said and
    reconcile each RagDeployment (namespace, name).

    Every other CRD event is ignored: status and managedFields updates, and the re-list of
    every CRD after a watch restart (a network partition), which would otherwise queue a
    reconcile of every RagDeployment behind each one's lock just as the operator recovers.
    """
    if not served_changed(state.optional_apis, event_type, body):
        return
    state.api.forget_discovery()
    for namespace, name in sorted(set(rag_deployments)):
        await reconcile_by_name(state, namespace, name)
