"""Events of child objects: drive the parent's status, restore deleted or edited children."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ragkube_operator.handlers.rag_deployment import (
    GENERATION_KINDS,
    owner_name,
    reconcile_by_name,
    report_workloads,
)
from ragkube_operator.operator_state import OperatorState

_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})


def drifted(state: OperatorState, body: Mapping[str, Any]) -> bool:
    """Whether someone else changed a child since the operator last applied it.

    Workloads and PodDisruptionBudgets compare `metadata.generation` (it moves on spec
    changes only, not on status updates); other kinds compare `resourceVersion`. A child
    the operator has not applied since it started is left to the resume handler.
    """
    meta = body["metadata"]
    recorded = state.applied.get((body["kind"], meta["namespace"], meta["name"]))
    if recorded is None:
        return False
    field = "generation" if body["kind"] in GENERATION_KINDS else "resourceVersion"
    return recorded != str(meta.get(field))


async def on_child_event(
    event_type: str | None, body: Mapping[str, Any], state: OperatorState
) -> None:
    """React to one watch event of a child object owned by a RagDeployment."""
    rd_name = owner_name(body)
    if rd_name is None:
        return
    meta = body["metadata"]
    namespace, kind = meta["namespace"], body["kind"]
    key = (kind, namespace, meta["name"])
    if event_type == "DELETED":
        state.applied.pop(key, None)
        state.workloads.pop(key, None)
        await reconcile_by_name(state, namespace, rd_name)
        return
    if kind in _WORKLOAD_KINDS:
        state.workloads[key] = body
    if drifted(state, body):
        await reconcile_by_name(state, namespace, rd_name)
    elif kind in _WORKLOAD_KINDS:
        await report_workloads(state, namespace, rd_name)
