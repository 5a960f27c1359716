"""Pure functions that turn the observed children into RagDeployment status fields."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from ragkube_operator import conditions as cond


def _replicas(obj: Mapping[str, Any]) -> tuple[int, int]:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    desired = spec.get("replicas", 1)
    return int(desired if desired is not None else 1), int(status.get("readyReplicas") or 0)


def workload_condition(
    obj: Mapping[str, Any] | None, what: str
) -> tuple[cond.ConditionStatus, str, str]:
    """(status, reason, message) of a Deployment's or StatefulSet's readiness.

    True when every desired replica is updated and ready. A rollout that completed once
    and then lost ready pods, or that exceeded its progress deadline, is `PodsNotReady`
    (the RagDeployment is Degraded); anything else not ready is `RolloutInProgress`.
    """
    if obj is None:
        return "False", cond.REASON_NOT_CREATED, f"The {what} does not exist yet."
    desired, ready = _replicas(obj)
    status = obj.get("status") or {}
    generation = (obj.get("metadata") or {}).get("generation", 0)
    if desired == 0:
        return "False", cond.REASON_SCALED_TO_ZERO, f"The {what} is scaled to zero replicas."
    observed = status.get("observedGeneration", 0) >= generation
    updated = int(status.get("updatedReplicas") or 0) >= desired
    if observed and updated and ready >= desired:
        return "True", cond.REASON_AVAILABLE, f"{ready}/{desired} {what} pods are ready."
    progressing = cond.find(status.get("conditions") or [], "Progressing") or {}
    if progressing.get("reason") in {"ProgressDeadlineExceeded", "NewReplicaSetAvailable"}:
        return (
            "False",
            cond.REASON_PODS_NOT_READY,
            f"{ready}/{desired} {what} pods are ready; check the pods' events and logs.",
        )
    return (
        "False",
        cond.REASON_ROLLOUT_IN_PROGRESS,
        f"{ready}/{desired} {what} pods are ready; the rollout is in progress.",
    )


#: Conditions whose every flip after the first is also told as an Event.
ANNOUNCED: Final = (cond.LEXICAL_INDEX_READY,)


def transitions(
    before: Sequence[dict[str, Any]], after: Sequence[dict[str, Any]]
) -> list[cond.Condition]:
    """The `ANNOUNCED` conditions whose status flipped between two condition lists.

    A condition seen for the first time is not a change (every new RagDeployment starts with
    its stores not created yet); an Event for it would only be noise.
    """
    flipped = []
    for type_ in ANNOUNCED:
        old, new = cond.find(before, type_), cond.find(after, type_)
        if old is not None and new is not None and old.get("status") != new.get("status"):
            flipped.append((type_, new["status"], new["reason"], new["message"]))
    return flipped


def with_redis(condition: cond.Condition, statefulset: Mapping[str, Any] | None) -> cond.Condition:
    """`condition` (SharedState) with the managed Redis StatefulSet's readiness folded in.

    Only a managed-Redis SharedState follows the StatefulSet; any other is returned as is,
    and so is one whose StatefulSet has not been seen yet.
    """
    reason = condition[2]
    if statefulset is None or reason not in {
        cond.REASON_MANAGED_REDIS,
        cond.REASON_REDIS_NOT_READY,
    }:
        return condition
    status, _, message = workload_condition(statefulset, "Redis")
    name = (statefulset.get("metadata") or {}).get("name", "redis")
    if status == "True":
        return (
            cond.SHARED_STATE,
            "True",
            cond.REASON_MANAGED_REDIS,
            f"The API pods share their state through the managed Redis {name}.",
        )
    return (
        cond.SHARED_STATE,
        "False",
        cond.REASON_REDIS_NOT_READY,
        f"{message} Until Redis {name} is ready, the API's rate limiter lets requests "
        "through and shared state is unavailable.",
    )


def with_workloads(
    status: Mapping[str, Any],
    *,
    deployment: Mapping[str, Any] | None,
    statefulset: Mapping[str, Any] | None,
    index: Mapping[str, Any] | None,
    generation: int,
    now: str,
) -> dict[str, Any]:
    """`status` with replicas and the APIAvailable, VectorStoreReady, LexicalIndexReady and
    Ready conditions (`statefulset` is Chroma's, `index` the lexical index server's).

    The two stores have a condition each: a hybrid query still answers from Chroma alone
    while the index server is down, so which half is missing is what a user must see.
    """
    conditions = list(status.get("conditions") or [])
    api = workload_condition(deployment, "API")
    store = workload_condition(statefulset, "Chroma")
    lexical = workload_condition(index, "lexical index server")
    for type_, condition in (
        (cond.API_AVAILABLE, api),
        (cond.VECTOR_STORE_READY, store),
        (cond.LEXICAL_INDEX_READY, lexical),
    ):
        conditions = cond.set_condition(
            conditions, type_, *condition, generation=generation, now=now
        )
    reconciled = cond.is_true(conditions, cond.RECONCILED)
    waiting = [
        name
        for name, ok in (
            (cond.RECONCILED, reconciled),
            (cond.API_AVAILABLE, api[0] == "True"),
            (cond.VECTOR_STORE_READY, store[0] == "True"),
            (cond.LEXICAL_INDEX_READY, lexical[0] == "True"),
        )
        if not ok
    ]
    ready: tuple[cond.ConditionStatus, str, str] = (
        (
            "False",
            cond.REASON_COMPONENTS_NOT_READY,
            f"Waiting for {', '.join(waiting)}.",
        )
        if waiting
        else ("True", cond.REASON_ALL_READY, "The API and the storage tier are ready.")
    )
    conditions = cond.set_condition(conditions, cond.READY, *ready, generation=generation, now=now)
    desired, ready_replicas = _replicas(deployment) if deployment is not None else (0, 0)
    return {
        **status,
        "conditions": conditions,
        "replicas": desired,
        "readyReplicas": ready_replicas,
        "ready": f"{ready_replicas}/{desired}",
        "phase": cond.phase(conditions),
    }
