"""Conditions change only when something changed; the phase follows from them."""

from __future__ import annotations

from typing import Any

import pytest
from ragkube_operator import conditions as cond
from ragkube_operator.status import with_workloads, workload_condition


def test_unchanged_condition_keeps_its_transition_time() -> None:
    first = cond.set_condition([], "Ready", "False", "R", "m", generation=1, now="t1")
    again = cond.set_condition(first, "Ready", "False", "R", "m", generation=1, now="t2")
    assert again == first
    moved = cond.set_condition(first, "Ready", "False", "R", "other", generation=2, now="t3")
    assert moved[0]["lastTransitionTime"] == "t1"
    assert moved[0]["observedGeneration"] == 2
    flipped = cond.set_condition(first, "Ready", "True", "R", "m", generation=1, now="t4")
    assert flipped[0]["lastTransitionTime"] == "t4"


def _c(type_: str, status: str, reason: str = "R") -> dict[str, Any]:
    return {"type": type_, "status": status, "reason": reason, "message": ""}


@pytest.mark.parametrize(
    ("conditions", "phase"),
    [
        ([], "Pending"),
        ([_c("Reconciled", "False", cond.REASON_INVALID_SPEC)], "Failed"),
        ([_c("Reconciled", "False", cond.REASON_SECRET_NOT_FOUND)], "Degraded"),
        ([_c("Reconciled", "True"), _c("Ready", "True")], "Ready"),
        (
            [
                _c("Reconciled", "True"),
                _c("Ready", "False"),
                _c("APIAvailable", "False", cond.REASON_ROLLOUT_IN_PROGRESS),
            ],
            "Progressing",
        ),
        (
            [
                _c("Reconciled", "True"),
                _c("Ready", "False"),
                _c("APIAvailable", "False", cond.REASON_PODS_NOT_READY),
            ],
            "Degraded",
        ),
    ],
)
def test_phase_is_derived_from_conditions(conditions: list[dict[str, Any]], phase: str) -> None:
    assert cond.phase(conditions) == phase


def _deployment(desired: int, ready: int, progressing: str = "ReplicaSetUpdated") -> dict[str, Any]:
    return {
        "metadata": {"generation": 2},
        "spec": {"replicas": desired},
        "status": {
            "observedGeneration": 2,
            "updatedReplicas": desired,
            "readyReplicas": ready,
            "conditions": [{"type": "Progressing", "status": "True", "reason": progressing}],
        },
    }


@pytest.mark.parametrize(
    ("obj", "status", "reason"),
    [
        (None, "False", cond.REASON_NOT_CREATED),
        (_deployment(2, 2), "True", cond.REASON_AVAILABLE),
        (_deployment(2, 1), "False", cond.REASON_ROLLOUT_IN_PROGRESS),
        (_deployment(2, 1, "NewReplicaSetAvailable"), "False", cond.REASON_PODS_NOT_READY),
        (_deployment(0, 0), "False", cond.REASON_SCALED_TO_ZERO),
    ],
)
def test_workload_condition(obj: dict[str, Any] | None, status: str, reason: str) -> None:
    assert workload_condition(obj, "API")[:2] == (status, reason)


def test_ready_needs_reconciled_api_and_vector_store() -> None:
    base = {"conditions": [_c("Reconciled", "True")]}
    status = with_workloads(
        base,
        deployment=_deployment(2, 2),
        statefulset=_deployment(1, 1),
        index=_deployment(1, 1),
        generation=1,
        now="t",
    )
    assert status["phase"] == "Ready"
    assert status["ready"] == "2/2"
    assert cond.is_true(status["conditions"], cond.READY)
    waiting = with_workloads(
        base,
        deployment=_deployment(2, 2),
        statefulset=None,
        index=_deployment(1, 1),
        generation=1,
        now="t",
    )
    assert waiting["phase"] == "Progressing"
    assert "VectorStoreReady" in cond.find(waiting["conditions"], "Ready")["message"]  # type: ignore[index]
