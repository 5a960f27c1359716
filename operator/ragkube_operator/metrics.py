"""The operator's own Prometheus metrics: reconciles, errors and their durations."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram, start_http_server


class OperatorMetrics:
    """Counters and a histogram in a registry of their own (nothing global at import)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.reconciles = Counter(
            "ragkube_operator_reconciles_total",
            "Reconciles by resource kind and outcome (success, error).",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.errors = Counter(
            "ragkube_operator_errors_total",
            "Reconcile errors by resource kind and reason.",
            ["kind", "reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "ragkube_operator_reconcile_duration_seconds",
            "Time spent in one reconcile.",
            ["kind"],
            registry=self.registry,
            buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )

    def serve(self, port: int) -> None:
        """Expose /metrics on `port` from a background thread."""
        start_http_server(port, registry=self.registry)
