"""Log redaction and the Prometheus exposition."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import structlog

from api.answer_cache import InProcessAnswerCache, cache_key
from api.logging import REDACTED, configure_logging, truncate
from api.metrics import Metrics


def test_secrets_never_reach_a_log_line(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging("INFO", "json")
    token = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2lnbmF0dXJl"
    structlog.get_logger("t").info(
        "login",
        password="hunter2hunter2",
        authorization=f"Bearer {token}",
        note=f"sent {token} and rk_abcdefghijklmnopqrstuvwxyz and redis://:pw@host:6379/0",
        nested={"api_key": "rk_zzzzzzzzzzzzzzzzzzzzzz", "ok": "visible"},
    )
    out = capsys.readouterr().out
    for secret in ("hunter2hunter2", token, "rk_abcdefghijklmnopqrstuvwxyz", ":pw@", "rk_zzzz"):
        assert secret not in out
    assert REDACTED in out
    assert "visible" in out


def test_queries_are_truncated_for_logs() -> None:
    assert truncate("x" * 500).startswith("x" * 80)
    assert len(truncate("x" * 500)) == 81
    assert truncate("short") == "short"


def test_exposition_passes_promtool(tmp_path: Path) -> None:
    metrics = Metrics()
    metrics.requests.labels("POST", "/query", "200").inc()
    metrics.request_duration.labels("POST", "/query").observe(0.01)
    metrics.observe_query(0.7, {"embed": 0.002, "retrieve": 0.004, "generate": 0.001})
    metrics.documents.labels("ingested").inc(3)
    metrics.documents_stored.set(3)
    metrics.webhook_deliveries.labels("query.completed", "delivered").inc()
    metrics.answer_cache.labels("hit").inc()
    text = metrics.exposition().decode()
    for name in (
        "rag_requests_total",
        "rag_request_duration_seconds_bucket",
        "rag_query_confidence_bucket",
        "rag_active_requests",
        "rag_documents_total",
        "rag_stage_duration_seconds_bucket",
        "rag_webhook_deliveries_total",
    ):
        assert name in text
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if not Path(promtool).exists():
        pytest.fail("promtool is needed: apt-get install -y prometheus")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


async def test_answer_cache_keys_follow_normalized_query_and_index_version() -> None:
    options = {"max_results": 5, "mode": None}
    assert cache_key("v1", "What  is RAG?", options) == cache_key("v1", "what is rag?", options)
    assert cache_key("v1", "what is rag?", options) != cache_key("v2", "what is rag?", options)
    assert cache_key("v1", "q", options) != cache_key("v1", "q", {**options, "max_results": 6})
    cache = InProcessAnswerCache(ttl_seconds=60, max_entries=2)
    for i in range(3):
        await cache.put(f"k{i}", {"answer": str(i)})
    assert await cache.get("k0") is None  # evicted
    assert await cache.get("k2") == {"answer": "2"}
