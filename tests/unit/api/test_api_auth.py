"""Tokens, passwords and API keys: what is accepted and what is refused."""

from __future__ import annotations

import base64
import datetime as dt
import json
from pathlib import Path

import pytest
from jose import jwt

from api.auth import (
    AuthError,
    CredentialStore,
    TokenService,
    generate_api_key,
    hash_api_key,
    hash_password,
    parse_credentials,
)

SECRET = "s" * 48
ISSUER = "ragkube-test"


def service() -> TokenService:
    return TokenService(SECRET, "HS256", 30, ISSUER)


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**overrides: object) -> dict[str, object]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    base: dict[str, object] = {
        "sub": "alice",
        "scopes": ["query"],
        "iat": now,
        "exp": now + 600,
        "iss": ISSUER,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def test_issued_token_round_trips_with_subject_and_scopes() -> None:
    principal = service().verify(service().issue("alice", ["query", "ingest"]))
    assert principal.name == "alice"
    assert principal.scopes == frozenset({"query", "ingest"})
    assert principal.has("query")
    assert not principal.has("admin")


def test_admin_scope_implies_every_scope() -> None:
    principal = service().verify(service().issue("root", ["admin"]))
    assert principal.has("query")
    assert principal.has("ingest")
    assert principal.has("admin")


def _bad_tokens() -> dict[str, str]:
    now = int(dt.datetime.now(dt.UTC).timestamp())
    return {
        "bad signature": jwt.encode(claims(), "x" * 48, algorithm="HS256"),
        "alg none": f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims())}.",
        "other alg": jwt.encode(claims(), SECRET, algorithm="HS512"),
        "expired": jwt.encode(claims(iat=now - 7200, exp=now - 3600), SECRET, algorithm="HS256"),
        "missing exp": jwt.encode(claims(exp=None), SECRET, algorithm="HS256"),
        "missing sub": jwt.encode(claims(sub=None), SECRET, algorithm="HS256"),
        "missing iat": jwt.encode(claims(iat=None), SECRET, algorithm="HS256"),
        "missing scopes": jwt.encode(claims(scopes=None), SECRET, algorithm="HS256"),
        "other issuer": jwt.encode(claims(iss="someone-else"), SECRET, algorithm="HS256"),
        "garbage": "a.b.c",
    }


@pytest.mark.parametrize("case", list(_bad_tokens()))
def test_untrustworthy_tokens_are_refused(case: str) -> None:
    with pytest.raises(AuthError):
        service().verify(_bad_tokens()[case])


def test_users_file_authenticates_passwords_and_api_keys(tmp_path: Path) -> None:
    key = generate_api_key()
    path = tmp_path / "users.json"
    path.write_text(
        json.dumps(
            {
                "users": [
                    {
                        "username": "alice",
                        "password_hash": hash_password("correct horse", rounds=4),
                        "scopes": ["query"],
                    }
                ],
                "api_keys": [
                    {"name": "ingester", "key_sha256": hash_api_key(key), "scopes": ["ingest"]}
                ],
            }
        )
    )
    store = CredentialStore(path)
    user = store.authenticate_password("alice", "correct horse")
    assert user is not None
    assert user.scopes == frozenset({"query"})
    assert store.authenticate_password("alice", "wrong") is None
    assert store.authenticate_password("mallory", "correct horse") is None
    service_key = store.authenticate_api_key(key)
    assert service_key is not None
    assert service_key.label == "key:ingester"
    assert store.authenticate_api_key(key + "x") is None
    assert key not in path.read_text()  # only the hash is stored


def test_users_file_changes_are_picked_up_without_restart(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(json.dumps({"users": []}))
    store = CredentialStore(path)
    assert not store.user_exists("bob")
    path.write_text(
        json.dumps({"users": [{"username": "bob", "password_hash": hash_password("pw", rounds=4)}]})
    )
    assert store.user_exists("bob")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"users": [{"username": "a", "password_hash": "plain"}]}, "bcrypt"),
        ({"users": [{"username": "a", "password_hash": "$2b$x", "scopes": ["root"]}]}, "unknown"),
        ({"api_keys": [{"name": "k", "key_sha256": "abc"}]}, "SHA-256"),
        ([], "JSON object"),
    ],
)
def test_invalid_users_files_are_refused_with_the_reason(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_credentials(data)
