"""Password guessing is rate limited per client, and a forged X-Forwarded-For does not help."""

from __future__ import annotations

from tests.support.api_harness import PASSWORDS, ApiFactory


async def test_password_guessing_is_rate_limited(make_api: ApiFactory) -> None:
    async with make_api(rate_limit_requests=5, rate_limit_window=60) as api:
        statuses = []
        for attempt in range(8):
            response = await api.client.post(
                "/auth/login",
                data={"username": "alice", "password": f"guess-{attempt}"},
                # Without trusted proxies, a client cannot pose as many clients.
                headers={"X-Forwarded-For": f"203.0.113.{attempt}"},
            )
            statuses.append(response.status_code)
        assert statuses == [401] * 5 + [429] * 3
        assert int(response.headers["Retry-After"]) >= 1
        assert response.json()["error"] == "rate_limited"
        # Even the right password is refused until the window moves on.
        right = await api.client.post(
            "/auth/login", data={"username": "alice", "password": PASSWORDS["alice"]}
        )
        assert right.status_code == 429


async def test_failed_logins_do_not_reveal_which_user_names_exist(make_api: ApiFactory) -> None:
    async with make_api() as api:
        known = await api.client.post(
            "/auth/login", data={"username": "alice", "password": "wrong-password"}
        )
        unknown = await api.client.post(
            "/auth/login", data={"username": "nobody-here", "password": "wrong-password"}
        )
        assert known.status_code == unknown.status_code == 401
        assert known.json()["message"] == unknown.json()["message"]
