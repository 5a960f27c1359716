"""The HorizontalPodAutoscaler (autoscaling/v2) of the API Deployment."""

from __future__ import annotations

from typing import Any

from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def autoscaler(rd: RagDeployment) -> dict[str, Any]:
    """The HPA `<rd>-api` scaling on average CPU utilisation between min and max replicas."""
    scaling = rd.spec.api.autoscaling
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "spec": {
            "scaleTargetRef": {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": labels.api_name(rd.name),
            },
            "minReplicas": scaling.min_replicas,
            "maxReplicas": scaling.max_replicas,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {
                            "type": "Utilization",
                            "averageUtilization": scaling.target_cpu_utilization_percentage,
                        },
                    },
                }
            ],
        },
    }
