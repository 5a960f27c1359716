"""The Prometheus Operator ServiceMonitor that scrapes the API's metrics."""

from __future__ import annotations

from typing import Any, Final

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment

MONITORING_API_VERSION: Final = "monitoring.coreos.com/v1"


def service_monitor(rd: RagDeployment) -> dict[str, Any]:
    """The ServiceMonitor `<rd>-api` selecting the API Service's `http` port."""
    monitor = rd.spec.monitoring.service_monitor
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "ServiceMonitor",
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": {**monitor.labels, **labels.standard_labels(rd.name, labels.MONITORING)},
        },
        "spec": {
            "selector": {"matchLabels": labels.selector_labels(rd.name, labels.API)},
            "namespaceSelector": {"matchNames": [rd.namespace]},
            "endpoints": [
                {
                    "port": "http",
                    "path": api_image.METRICS_PATH,
                    "interval": monitor.interval,
                    "scheme": "http",
                }
            ],
        },
    }
