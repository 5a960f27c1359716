"""Headless Services giving a StatefulSet's pod a stable DNS name (Chroma, managed Redis)."""

from __future__ import annotations

from typing import Any

from ragkube_operator import labels
from ragkube_operator.models import RagDeployment


def headless_service(
    rd: RagDeployment, component: str, name: str, port: int, port_name: str
) -> dict[str, Any]:
    """The headless Service `name` (clusterIP None) on `port` for `component`'s pods."""
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": name,
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, component),
        },
        "spec": {
            "clusterIP": "None",
            "publishNotReadyAddresses": False,
            "selector": labels.selector_labels(rd.name, component),
            "ports": [
                {"name": port_name, "port": port, "targetPort": port_name, "protocol": "TCP"}
            ],
        },
    }
