"""What the operator keeps in memory between handler calls (stored in kopf's memo).

Nothing here is needed for correctness after a restart: the resume handlers re-apply every
RagDeployment, which rebuilds the records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ragkube_operator.kubeapi import KubeApi
from ragkube_operator.metrics import OperatorMetrics

#: (kind, namespace, name) of a child object.
ChildKey = tuple[str, str, str]


@dataclass
class OperatorState:
    """The API client, metrics, per-RagDeployment locks and what was last applied."""

    api: KubeApi
    metrics: OperatorMetrics
    locks: dict[tuple[str, str], asyncio.Lock] = field(default_factory=dict)
    #: Per child: its metadata.generation (workloads) or resourceVersion after our apply.
    applied: dict[ChildKey, str] = field(default_factory=dict)
    #: Last seen Deployments and StatefulSets of the RagDeployments, keyed by (kind, ns, name).
    workloads: dict[ChildKey, Mapping[str, Any]] = field(default_factory=dict)
    #: Per optional API's CRD name: whether it was established when last seen.
    optional_apis: dict[str, bool] = field(default_factory=dict)

    def lock(self, namespace: str, name: str) -> asyncio.Lock:
        """The lock serialising all writes for one RagDeployment's children."""
        return self.locks.setdefault((namespace, name), asyncio.Lock())
