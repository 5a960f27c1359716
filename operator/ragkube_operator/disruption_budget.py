"""The PodDisruptionBudget of the API pods."""

from __future__ import annotations

from typing import Any

from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def disruption_budget(rd: RagDeployment) -> dict[str, Any]:
    """The PDB `<rd>-api`: voluntary evictions take at most `maxUnavailable` API pods.

    `maxUnavailable` rather than `minAvailable`, so a single-replica deployment can still
    be drained.
    """
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "spec": {
            "maxUnavailable": rd.spec.disruption_budget.max_unavailable,
            "selector": {"matchLabels": labels.selector_labels(rd.name, labels.API)},
        },
    }
