"""Prometheus metrics of one app, exposed at /metrics.

The seed chapter's names are kept: `rag_requests_total{method,endpoint,status}`,
`rag_request_duration_seconds`, `rag_query_confidence`, `rag_active_requests`,
`rag_documents_total`. `endpoint` is always the route template (`/documents/{document_id}`),
never the raw path, so a scan of random URLs cannot blow up the series count; paths that
match no route are counted under `endpoint="unmatched"`.

`rag_documents_total` is a counter (documents ingested, rejected or deleted, by `outcome`)
because Prometheus reserves the `_total` suffix for counters (`promtool check metrics`
rejects a gauge with it); the number of stored documents is the gauge `rag_documents_stored`.

Each app gets its own registry, so several apps in one test process do not collide. Under
several uvicorn workers, set PROMETHEUS_MULTIPROC_DIR (an empty directory, before the
workers start; `api.serve` does so) and every worker writes its samples there; /metrics
then aggregates all workers.
"""

from __future__ import annotations

import os

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import multiprocess as prometheus_multiprocess

from ragkube_contract import api_image

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
STAGE_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
CONFIDENCE_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)

UNMATCHED_ENDPOINT = "unmatched"


def multiprocess_dir() -> str | None:
    """The shared sample directory when running under several worker processes."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


class Metrics:
    """Every metric the API records, registered in one registry."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            api_image.REQUESTS_METRIC.removesuffix("_total"),
            "HTTP requests answered, by method, route template and status code.",
            ["method", "endpoint", "status"],
            registry=r,
        )
        self.request_duration = Histogram(
            api_image.REQUEST_DURATION_METRIC,
            "Time from receiving a request to sending the last byte of its answer.",
            ["method", "endpoint"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.active_requests = Gauge(
            "rag_active_requests",
            "Requests being served right now.",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.query_confidence = Histogram(
            "rag_query_confidence",
            "Confidence of the answers given to queries.",
            buckets=CONFIDENCE_BUCKETS,
            registry=r,
        )
        self.stage_duration = Histogram(
            "rag_stage_duration_seconds",
            "Time spent per query stage (embed, retrieve, generate).",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.documents = Counter(
            "rag_documents",
            "Documents processed by this service, by outcome (ingested, rejected, deleted).",
            ["outcome"],
            registry=r,
        )
        self.documents_stored = Gauge(
            "rag_documents_stored",
            "Documents in the collection, as last observed by this process.",
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.webhook_deliveries = Counter(
            api_image.WEBHOOK_DELIVERIES_METRIC.removesuffix("_total"),
            "Webhook delivery attempts by event and outcome "
            "(delivered, retried, dropped, refused).",
            ["event", "outcome"],
            registry=r,
        )
        self.lexical_repairs = Counter(
            "rag_lexical_index_repairs",
            "Chunks the consistency sweep wrote into (missing) or removed from (extra) the "
            "lexical index to match the vector store.",
            ["kind"],
            registry=r,
        )
        self.answer_cache = Counter(
            "rag_answer_cache_requests",
            "Answer cache lookups by result (hit, miss).",
            ["result"],
            registry=r,
        )

    def observe_query(self, confidence: float, timings: dict[str, float]) -> None:
        """Record one answered query's confidence and per-stage latencies."""
        self.query_confidence.observe(confidence)
        for stage in ("embed", "retrieve", "generate"):
            value = timings.get(stage)
            if value is not None:
                self.stage_duration.labels(stage).observe(value)

    def exposition(self) -> bytes:
        """The Prometheus text format of every metric (all workers under multiprocess)."""
        directory = multiprocess_dir()
        if directory is None:
            return generate_latest(self.registry)
        registry = CollectorRegistry()
        prometheus_multiprocess.MultiProcessCollector(registry, path=directory)  # type: ignore[no-untyped-call]
        return generate_latest(registry)
