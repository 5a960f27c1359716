"""The API exposes the series the operator's alert rules query (ragkube_contract)."""

from __future__ import annotations

from prometheus_client import generate_latest

from api.metrics import Metrics
from ragkube_contract import api_image


def test_api_exposes_every_series_the_alert_rules_query() -> None:
    metrics = Metrics()
    metrics.requests.labels(method="POST", endpoint="/query", status="200").inc()
    metrics.request_duration.labels(method="POST", endpoint="/query").observe(0.05)
    metrics.webhook_deliveries.labels(
        event="query.completed", outcome=api_image.WEBHOOK_DROPPED_OUTCOME
    ).inc()

    exposition = generate_latest(metrics.registry).decode()

    assert f'{api_image.REQUESTS_METRIC}{{endpoint="/query",method="POST",status="200"}}' in (
        exposition
    )
    assert f"{api_image.REQUEST_DURATION_METRIC}_bucket{{" in exposition
    assert f'outcome="{api_image.WEBHOOK_DROPPED_OUTCOME}"' in exposition
    assert api_image.WEBHOOK_DELIVERIES_METRIC in exposition
