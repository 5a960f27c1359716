"""A token is held to what the users file grants its user now, not to what it was issued with.

Edits to the users file take effect on the next request (the file is checked on each one):
scopes taken away answer 403, a removed user 401, with no restart and no new token.
"""

from __future__ import annotations

import json
from pathlib import Path

from api.auth import hash_password
from tests.support.api_harness import Api, ApiFactory

PASSWORD = "carol-password-1"


def write_users(path: Path, scopes: dict[str, list[str]]) -> None:
    """The users file listing each user of `scopes` (all with the same password)."""
    password_hash = hash_password(PASSWORD, rounds=4)
    path.write_text(
        json.dumps(
            {
                "users": [
                    {"username": name, "password_hash": password_hash, "scopes": granted}
                    for name, granted in scopes.items()
                ]
            }
        )
    )


async def login(api: Api, username: str) -> dict[str, str]:
    """The Authorization header of a token obtained through /auth/login."""
    response = await api.client.post(
        "/auth/login", data={"username": username, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_revoked_scopes_and_removed_users_are_refused_on_the_next_request(
    make_api: ApiFactory, tmp_path: Path
) -> None:
    users = tmp_path / "users.json"
    write_users(users, {"carol": ["admin"], "dave": ["query"]})
    async with make_api(users_file=users) as api:
        carol, dave = await login(api, "carol"), await login(api, "dave")
        question = {"query": "What is Chroma?"}
        assert (await api.client.get("/webhooks", headers=carol)).status_code == 200
        assert (await api.client.post("/query", json=question, headers=carol)).status_code == 200

        # Carol demoted to `query`: the admin token she holds no longer manages webhooks.
        # Dave promoted: the token he holds still carries only what it was issued with.
        write_users(users, {"carol": ["query"], "dave": ["admin"]})
        demoted = await api.client.get("/webhooks", headers=carol)
        assert demoted.status_code == 403, demoted.text
        assert demoted.json()["error"] == "forbidden"
        assert (await api.client.post("/query", json=question, headers=carol)).status_code == 200
        assert (await api.client.get("/webhooks", headers=dave)).status_code == 403

        # Every scope taken away: not even a question.
        write_users(users, {"carol": [], "dave": ["admin"]})
        emptied = await api.client.post("/query", json=question, headers=carol)
        assert emptied.status_code == 403, emptied.text
        assert emptied.json()["details"] == {"scope": "query"}

        # Removed from the file: the token names no one any more.
        write_users(users, {"dave": ["admin"]})
        removed = await api.client.post("/query", json=question, headers=carol)
        assert removed.status_code == 401, removed.text
        assert removed.json()["error"] == "unauthorized"
