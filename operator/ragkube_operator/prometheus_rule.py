"""The Prometheus Operator PrometheusRule with the basic alerts of one RagDeployment.

The metric names are the API image's (`api/metrics.py`): request counts by status and a
latency histogram; webhook delivery outcomes.
"""

from __future__ import annotations

from typing import Any, Final

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment
from ragkube_operator.service_monitor import MONITORING_API_VERSION

REQUESTS_METRIC: Final = api_image.REQUESTS_METRIC
LATENCY_METRIC: Final = f"{api_image.REQUEST_DURATION_METRIC}_bucket"
WEBHOOK_DELIVERIES_METRIC: Final = api_image.WEBHOOK_DELIVERIES_METRIC


def alert_rules(rd: RagDeployment) -> list[dict[str, Any]]:
    """Alerts: error ratio, p99 latency, API not ready, webhook deliveries failing."""
    scope = f'namespace="{rd.namespace}",service="{labels.api_name(rd.name)}"'
    meta = {"ragdeployment": rd.name}
    return [
        {
            "alert": "RagkubeHighErrorRatio",
            "expr": (
                f'sum(rate({REQUESTS_METRIC}{{{scope},status=~"5.."}}[5m]))'
                f" / clamp_min(sum(rate({REQUESTS_METRIC}{{{scope}}}[5m])), 1e-9) > 0.05"
            ),
            "for": "10m",
            "labels": {**meta, "severity": "warning"},
            "annotations": {
                "summary": f"More than 5% of requests to {rd.name} fail with 5xx.",
            },
        },
        {
            "alert": "RagkubeHighLatencyP99",
            "expr": (
                f"histogram_quantile(0.99, sum by (le) (rate({LATENCY_METRIC}{{{scope}}}[5m]))) > 5"
            ),
            "for": "10m",
            "labels": {**meta, "severity": "warning"},
            "annotations": {"summary": f"p99 latency of {rd.name} is above 5 seconds."},
        },
        {
            "alert": "RagkubeNotReady",
            "expr": f"(sum(up{{{scope}}}) or vector(0)) == 0",
            "for": "5m",
            "labels": {**meta, "severity": "critical"},
            "annotations": {"summary": f"No API pod of {rd.name} is up."},
        },
        {
            "alert": "RagkubeWebhookDeliveriesFailing",
            "expr": (
                f"sum(rate({WEBHOOK_DELIVERIES_METRIC}"
                f'{{{scope},outcome="{api_image.WEBHOOK_DROPPED_OUTCOME}"}}[15m])) > 0'
            ),
            "for": "15m",
            "labels": {**meta, "severity": "warning"},
            "annotations": {"summary": f"Webhook deliveries of {rd.name} keep failing."},
        },
    ]


def prometheus_rule(rd: RagDeployment) -> dict[str, Any]:
    """The PrometheusRule `<rd>-api` holding `alert_rules` in one group."""
    rule = rd.spec.monitoring.prometheus_rule
    return {
        "apiVersion": MONITORING_API_VERSION,
        "kind": "PrometheusRule",
        "metadata": {
            "name": labels.monitoring_name(rd.name),
            "namespace": rd.namespace,
            "labels": {**rule.labels, **labels.standard_labels(rd.name, labels.MONITORING)},
        },
        "spec": {"groups": [{"name": f"ragkube.{rd.name}", "rules": alert_rules(rd)}]},
    }
