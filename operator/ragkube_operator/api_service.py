"""The ClusterIP Service in front of the API pods."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def endpoint(rd: RagDeployment) -> str:
    """The in-cluster URL of the RagDeployment's API, as reported in its status."""
    return f"http://{labels.api_name(rd.name)}.{rd.namespace}.svc:{api_image.API_PORT}"


def api_service(rd: RagDeployment) -> dict[str, Any]:
    """The Service `<rd>-api` on port `api_image.API_PORT`, named `http`."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "spec": {
            "type": "ClusterIP",
            "selector": labels.selector_labels(rd.name, labels.API),
            "ports": [
                {
                    "name": "http",
                    "port": api_image.API_PORT,
                    "targetPort": "http",
                    "protocol": "TCP",
                }
            ],
        },
    }
