"""The users file is re-read whenever it changes, and a broken edit keeps the last good one."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from api.auth import CredentialStore, hash_password


def users(scopes: list[str]) -> str:
    return json.dumps(
        {"users": [{"username": "carol", "password_hash": "$2b$04$" + "x" * 53, "scopes": scopes}]}
    )


def test_a_broken_users_file_is_refused_at_start_up_and_outlived_by_the_last_good_later(
    tmp_path: Path,
) -> None:
    path = tmp_path / "users.json"
    path.write_text('{"users": [{"username": "carol", "password_hash": "plain"}]}')
    with pytest.raises(ValueError, match="bcrypt"):
        CredentialStore(path).load_or_raise()

    path.write_text(users(["query"]))
    store = CredentialStore(path)
    store.load_or_raise()
    path.write_text('{"users": [')  # a half-written edit: neither lock everyone out nor in
    assert store.user_exists("carol")
    assert store.user_scopes("carol") == frozenset({"query"})
    path.write_text(users([]))
    assert store.user_scopes("carol") == frozenset()


def test_a_swapped_in_file_of_the_same_size_and_time_is_noticed(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text(users(["query"]))
    store = CredentialStore(path)
    assert store.user_scopes("carol") == frozenset({"query"})
    # A Secret volume update: a new file renamed over the old one, here with the same size
    # and modification time.
    replacement = tmp_path / "users.json.new"
    replacement.write_text(users(["admin"]))
    before = path.stat()
    os.utime(replacement, ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(replacement, path)
    assert store.user_scopes("carol") == frozenset({"admin"})


def test_the_scopes_of_a_user_are_read_from_the_file_now(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    record = {"username": "carol", "password_hash": hash_password("pw", rounds=4)}
    path.write_text(json.dumps({"users": [{**record, "scopes": ["ingest"]}]}))
    store = CredentialStore(path)
    assert store.user_scopes("carol") == frozenset({"ingest"})
    assert store.user_scopes("mallory") is None
