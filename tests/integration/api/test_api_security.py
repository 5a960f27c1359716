"""The token matrix over HTTP, shared rate limits on one Redis, and secrets kept out of logs."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json

import pytest
from jose import jwt

from tests.support.api_harness import JWT_SECRET, PASSWORDS, SERVICE_KEY, Api, ApiFactory


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(api: Api, **overrides: object) -> dict[str, object]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    claims: dict[str, object] = {
        "sub": "alice",
        "scopes": ["query"],
        "iat": now,
        "exp": now + 600,
        "iss": api.settings.app_name,
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _token_matrix(api: Api) -> dict[str, str]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "bad signature": jwt.encode(_claims(api), "another-secret" * 4, algorithm="HS256"),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims(api))}.",
        "another algorithm": jwt.encode(_claims(api), JWT_SECRET, algorithm="HS384"),
        "expired": jwt.encode(
            _claims(api, iat=now - 7200, exp=now - 60), JWT_SECRET, algorithm="HS256"
        ),
        "missing exp": jwt.encode(_claims(api, exp=None), JWT_SECRET, algorithm="HS256"),
        "missing sub": jwt.encode(_claims(api, sub=None), JWT_SECRET, algorithm="HS256"),
        "missing scopes": jwt.encode(_claims(api, scopes=None), JWT_SECRET, algorithm="HS256"),
        "unknown user": jwt.encode(_claims(api, sub="ghost"), JWT_SECRET, algorithm="HS256"),
    }


async def test_token_matrix_gets_401_with_invalid_token_challenge(api: Api) -> None:
    good = jwt.encode(_claims(api), JWT_SECRET, algorithm="HS256")
    ok = await api.client.get("/documents", headers={"Authorization": f"Bearer {good}"})
    assert ok.status_code == 200
    for case, token in _token_matrix(api).items():
        response = await api.client.get("/documents", headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 401, case
        assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"', case
        assert response.json()["error"] == "unauthorized", case


async def test_wrong_api_key_is_refused(api: Api) -> None:
    response = await api.client.get("/documents", headers={"X-API-Key": SERVICE_KEY + "x"})
    assert response.status_code == 401
    assert "not valid" in response.json()["message"]


async def test_every_response_carries_rate_limit_headers_and_429_has_retry_after(
    make_api: ApiFactory,
) -> None:
    async with make_api(rate_limit_requests=3, rate_limit_window=60) as api:
        statuses = []
        for _ in range(4):
            response = await api.client.get("/documents", headers=api.svc)
            statuses.append(response.status_code)
            assert response.headers["X-RateLimit-Limit"] == "3"
            assert "X-RateLimit-Remaining" in response.headers
            assert "X-RateLimit-Reset" in response.headers
        assert statuses == [200, 200, 200, 429]
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"] == "rate_limited"
        # A different caller has a window of its own; probes are never limited.
        other = await api.client.get("/documents", headers=api.token("alice", ["query"]))
        assert other.status_code == 200
        assert (await api.client.get("/health")).status_code == 200


async def test_two_replicas_on_one_redis_share_the_limit(make_api: ApiFactory) -> None:
    async with (
        make_api(rate_limit_requests=5, rate_limit_window=60) as first,
        make_api(rate_limit_requests=5, rate_limit_window=60) as second,
    ):
        responses = await asyncio.gather(
            *(
                (first if i % 2 else second).client.get("/documents", headers=first.svc)
                for i in range(8)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 5 + [429] * 3


async def test_in_process_limiter_without_redis(make_api: ApiFactory) -> None:
    async with make_api(redis_url=None, rate_limit_requests=2) as api:
        codes = [(await api.client.get("/health/nope")).status_code for _ in range(3)]
        assert codes == [404, 404, 429]


async def test_forwarded_for_counts_the_real_client_behind_a_trusted_proxy(
    make_api: ApiFactory,
) -> None:
    async with make_api(rate_limit_requests=1, trusted_proxies=["127.0.0.1/32"]) as api:
        a = await api.client.get("/nope", headers={"X-Forwarded-For": "198.51.100.1"})
        b = await api.client.get("/nope", headers={"X-Forwarded-For": "198.51.100.2"})
        a_again = await api.client.get("/nope", headers={"X-Forwarded-For": "198.51.100.1"})
        assert (a.status_code, b.status_code, a_again.status_code) == (404, 404, 429)
    async with make_api(rate_limit_requests=1) as untrusting:
        a = await untrusting.client.get("/nope", headers={"X-Forwarded-For": "198.51.100.1"})
        b = await untrusting.client.get("/nope", headers={"X-Forwarded-For": "198.51.100.2"})
        assert (a.status_code, b.status_code) == (404, 429)


@pytest.mark.parametrize(("policy", "expected"), [("open", 200), ("closed", 503)])
async def test_redis_outage_follows_the_configured_policy(
    make_api: ApiFactory, policy: str, expected: int
) -> None:
    # Port 1 on loopback refuses connections: Redis is "down" for this app only.
    async with make_api(
        redis_url="redis://127.0.0.1:1/0",
        rate_limit_on_redis_error=policy,
        answer_cache_ttl_seconds=0,
    ) as api:
        response = await api.client.get("/documents", headers=api.svc)
        assert response.status_code == expected, response.text


async def test_secrets_never_reach_the_logs(api: Api, capsys: pytest.CaptureFixture[str]) -> None:
    login = await api.client.post(
        "/auth/login", data={"username": "alice", "password": PASSWORDS["alice"]}
    )
    token = login.json()["access_token"]
    await api.client.get("/documents", headers={"Authorization": f"Bearer {token}"})
    await api.client.get("/documents", headers={"X-API-Key": SERVICE_KEY})
    await api.client.post("/auth/login", data={"username": "alice", "password": "wrong-pw-123"})
    bad = token[:-4] + "AAAA"
    await api.client.get("/documents", headers={"Authorization": f"Bearer {bad}"})
    logs = capsys.readouterr().out
    assert '"route": "/documents"' in logs  # the request lines are there...
    for secret in (PASSWORDS["alice"], "wrong-pw-123", token, bad, SERVICE_KEY, JWT_SECRET):
        assert secret not in logs  # ...and no secret is
