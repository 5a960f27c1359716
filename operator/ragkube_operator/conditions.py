"""Status conditions: set one only when it changes, and derive the phase from them.

Pure functions over the `status.conditions` list (metav1.Condition shape); the status
writer (`handlers/status.py`) reads the object fresh, applies them, and writes only when the
result differs from what is stored.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final, Literal

ConditionStatus = Literal["True", "False", "Unknown"]
#: A condition to set, as (type, status, reason, message).
Condition = tuple[str, ConditionStatus, str, str]

READY: Final = "Ready"
RECONCILED: Final = "Reconciled"
API_AVAILABLE: Final = "APIAvailable"
VECTOR_STORE_READY: Final = "VectorStoreReady"
LEXICAL_INDEX_READY: Final = "LexicalIndexReady"
MONITORING_CONFIGURED: Final = "MonitoringConfigured"
EXPOSURE_CONFIGURED: Final = "ExposureConfigured"
SHARED_STATE: Final = "SharedState"
ACCEPTED: Final = "Accepted"

#: Reasons (CamelCase constants, as in Kubernetes).
REASON_RECONCILED: Final = "Reconciled"
REASON_INVALID_SPEC: Final = "InvalidSpec"
REASON_SECRET_NOT_FOUND: Final = "SecretNotFound"  # noqa: S105  (a reason)
REASON_APPLY_FAILED: Final = "ApplyFailed"
REASON_APPLY_RETRYING: Final = "ApplyRetrying"
REASON_ROLLOUT_IN_PROGRESS: Final = "RolloutInProgress"
REASON_PODS_NOT_READY: Final = "PodsNotReady"
REASON_AVAILABLE: Final = "MinimumReplicasAvailable"
REASON_NOT_CREATED: Final = "NotCreated"
REASON_SCALED_TO_ZERO: Final = "ScaledToZero"
REASON_MONITORING_DISABLED: Final = "Disabled"
REASON_MONITORING_CONFIGURED: Final = "Configured"
REASON_MONITORING_CRDS_MISSING: Final = "PrometheusOperatorCRDsMissing"
REASON_EXPOSURE_DISABLED: Final = "InClusterOnly"
REASON_EXPOSURE_CONFIGURED: Final = "Configured"
REASON_EXPOSURE_API_MISSING: Final = "APINotServed"
REASON_PER_POD_STATE: Final = "PerPodState"
REASON_SINGLE_REPLICA: Final = "SingleReplica"
REASON_MANAGED_REDIS: Final = "ManagedRedis"
REASON_REDIS_NOT_READY: Final = "RedisNotReady"
REASON_EXTERNAL_REDIS: Final = "ExternalRedis"
REASON_ALL_READY: Final = "AllComponentsReady"
REASON_COMPONENTS_NOT_READY: Final = "ComponentsNotReady"
REASON_ACCEPTED: Final = "Accepted"
REASON_RAG_DEPLOYMENT_NOT_FOUND: Final = "RagDeploymentNotFound"
REASON_OWNERSHIP_CONFLICT: Final = "OwnershipConflict"
REASON_STORAGE_CHANGE_REJECTED: Final = "StorageChangeRejected"
REASON_INVALID_SECRET: Final = "InvalidSecret"  # noqa: S105  (a reason)

#: Reasons of `Reconciled=False` that waiting will not fix: the spec must change.
PERMANENT_REASONS: Final = frozenset(
    {REASON_INVALID_SPEC, REASON_APPLY_FAILED, REASON_STORAGE_CHANGE_REJECTED}
)


def find(conditions: Sequence[dict[str, Any]], type_: str) -> dict[str, Any] | None:
    """The condition of a type, or None."""
    return next((c for c in conditions if c.get("type") == type_), None)


def is_true(conditions: Sequence[dict[str, Any]], type_: str) -> bool:
    """Whether the condition of a type exists and is True."""
    condition = find(conditions, type_)
    return condition is not None and condition.get("status") == "True"


def set_condition(
    conditions: Sequence[dict[str, Any]],
    type_: str,
    status: ConditionStatus,
    reason: str,
    message: str,
    *,
    generation: int,
    now: str,
) -> list[dict[str, Any]]:
    """The conditions with one set; unchanged (same list content) if nothing differs.

    `lastTransitionTime` moves only when the status flips, as Kubernetes conventions ask.
    """
    current = find(conditions, type_)
    if (
        current is not None
        and current.get("status") == status
        and current.get("reason") == reason
        and current.get("message") == message
        and current.get("observedGeneration") == generation
    ):
        return list(conditions)
    transition = now
    if current is not None and current.get("status") == status:
        transition = current.get("lastTransitionTime", now)
    updated = {
        "type": type_,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": transition,
        "observedGeneration": generation,
    }
    others = [c for c in conditions if c.get("type") != type_]
    return sorted([*others, updated], key=lambda c: str(c["type"]))


def phase(conditions: Sequence[dict[str, Any]]) -> str:
    """The RagDeployment phase, derived from its conditions only.

    Failed: the spec cannot be reconciled as written. Pending: not reconciled yet.
    Ready: every component ready. Degraded: rolled out, but pods are not ready.
    Progressing: anything else (a rollout under way).
    """
    reconciled = find(conditions, RECONCILED)
    if reconciled is None or reconciled.get("status") == "Unknown":
        return "Pending"
    if reconciled.get("status") == "False":
        return "Failed" if reconciled.get("reason") in PERMANENT_REASONS else "Degraded"
    if is_true(conditions, READY):
        return "Ready"
    for type_ in (API_AVAILABLE, VECTOR_STORE_READY, LEXICAL_INDEX_READY):
        condition = find(conditions, type_)
        if condition is not None and condition.get("reason") == REASON_PODS_NOT_READY:
            return "Degraded"
    return "Progressing"
