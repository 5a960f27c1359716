"""No secret reaches a log line: not on success, not on failure, not at start-up.

Every secret the service holds is configured with a recognisable value, then the app is
driven through its success and failure paths (bad logins, forged tokens, a failing LLM, an
unreachable Redis, webhook registration) while everything written to stdout and stderr is
captured.
"""

from __future__ import annotations

import pytest

from tests.support.api_harness import ADMIN_KEY, JWT_SECRET, PASSWORDS, SERVICE_KEY, ApiFactory
from tests.support.llm_stand_in import running_stand_in

OPENAI_KEY = "sk-live-DO-NOT-LOG-0123456789abcdef"
CHROMA_TOKEN = "chroma-token-DO-NOT-LOG-0123456789"
REDIS_PASSWORD = "redis-password-DO-NOT-LOG-0123"
WEBHOOK_SECRET = "webhook-secret-DO-NOT-LOG-0123456789abcdef"


async def test_no_secret_reaches_the_logs(
    make_api: ApiFactory, capfd: pytest.CaptureFixture[str]
) -> None:
    with running_stand_in() as llm:
        llm.behaviour = "error"
        async with make_api(
            llm_provider="openai-compatible",
            llm_base_url=llm.base_url,
            llm_timeout_seconds=2.0,
            llm_fallback_extractive=False,
            openai_api_key=OPENAI_KEY,
            chroma_auth_token=CHROMA_TOKEN,
            # Nothing listens on port 1: every Redis call fails and is logged.
            redis_url=f"redis://:{REDIS_PASSWORD}@127.0.0.1:1/0",
            rate_limit_on_redis_error="open",
            log_level="DEBUG",
        ) as api:
            client = api.client
            good = await client.post(
                "/auth/login", data={"username": "alice", "password": PASSWORDS["alice"]}
            )
            assert good.status_code == 200
            token = good.json()["access_token"]
            await client.post("/auth/login", data={"username": "alice", "password": "nope-123"})
            await client.post("/auth/login", data={"username": "admin", "password": "x"})
            await client.get("/documents", headers={"Authorization": f"Bearer {token}"})
            await client.get("/documents", headers={"Authorization": f"Bearer {token}x"})
            await client.get("/documents", headers={"X-API-Key": SERVICE_KEY + "-wrong"})
            await api.ingest_corpus()
            failed = await client.post("/query", json={"query": "What is BM25?"}, headers=api.svc)
            assert failed.status_code == 502, failed.text
            registered = await client.post(
                "/webhooks",
                json={
                    "url": "http://127.0.0.1:9/hook",
                    "events": ["query.completed"],
                    "secret": WEBHOOK_SECRET,
                },
                headers=api.admin,
            )
            # Runtime webhooks live in Redis, which is down: a 503, not a 500.
            assert registered.status_code == 503, registered.text
            assert registered.json()["error"] == "redis_unavailable"
    captured = capfd.readouterr()
    logs = captured.out + captured.err
    assert '"event": "request"' in logs  # the logs are there...
    assert "rag_error" in logs
    secrets = {
        "alice's password": PASSWORDS["alice"],
        "a wrong password": "nope-123",
        "the access token": token,
        "the service key": SERVICE_KEY,
        "the admin key": ADMIN_KEY,
        "the JWT key": JWT_SECRET,
        "the OpenAI key": OPENAI_KEY,
        "the Chroma token": CHROMA_TOKEN,
        "the Redis password": REDIS_PASSWORD,
        "the webhook secret": WEBHOOK_SECRET,
    }
    leaked = [name for name, value in secrets.items() if value in logs]
    assert leaked == []  # ...and no secret is
