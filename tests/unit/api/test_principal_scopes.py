"""A principal is limited to the scopes its user holds now, reading `admin` as every scope."""

from __future__ import annotations

import pytest

from api.auth import Principal


@pytest.mark.parametrize(
    ("issued", "granted_now", "kept"),
    [
        ({"query", "ingest"}, {"query", "ingest"}, {"query", "ingest"}),
        ({"query", "ingest"}, {"query"}, {"query"}),
        ({"query"}, set(), set()),
        ({"admin"}, {"query"}, {"query"}),
        ({"query"}, {"admin"}, {"query"}),
        ({"admin"}, {"admin"}, {"query", "ingest", "admin"}),
    ],
)
def test_a_principal_keeps_only_what_it_was_issued_and_still_holds(
    issued: set[str], granted_now: set[str], kept: set[str]
) -> None:
    principal = Principal("user", "carol", frozenset(issued))
    limited = principal.limited_to(frozenset(granted_now))
    assert limited.scopes == frozenset(kept)
    assert limited.label == "user:carol"
