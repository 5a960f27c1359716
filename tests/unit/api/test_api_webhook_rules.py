"""Webhook signing, SSRF refusals and the retry schedule."""

from __future__ import annotations

import time

import pytest

from api.webhooks import UnsafeWebhookURL, URLGuard, sign, verify_signature
from api.webhooks.dispatcher import RetryPolicy
from api.webhooks.registry import parse_operator_file


def test_signature_verifies_over_timestamp_and_exact_body() -> None:
    now = int(time.time())
    body = b'{"event":"query.completed"}'
    signature = sign("k" * 32, now, body)
    assert signature.startswith("sha256=")
    assert verify_signature("k" * 32, str(now), signature, body)
    assert not verify_signature("k" * 32, str(now), signature, body + b" ")
    assert not verify_signature("other" * 8, str(now), signature, body)
    assert not verify_signature("k" * 32, str(now + 1), signature, body)


def test_old_timestamps_are_refused_as_replays() -> None:
    then = int(time.time()) - 3600
    body = b"{}"
    assert not verify_signature("k" * 32, str(then), sign("k" * 32, then, body), body)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://[::1]/hook",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
        "ftp://example.com/hook",
        "file:///etc/passwd",
        "http://user:pw@example.com/hook",
    ],
)
async def test_ssrf_guard_refuses_internal_targets(url: str) -> None:
    with pytest.raises(UnsafeWebhookURL):
        await URLGuard([]).check(url)


async def test_allowlist_admits_a_named_internal_receiver() -> None:
    await URLGuard(["127.0.0.1/32"]).check("http://127.0.0.1:9999/hook")
    await URLGuard(["receiver.local"]).check("http://receiver.local/hook")


async def test_public_addresses_pass() -> None:
    await URLGuard([]).check("https://93.184.216.34/hook")


def test_backoff_grows_exponentially_with_jitter_and_a_cap() -> None:
    policy = RetryPolicy(max_attempts=10, base_seconds=1.0, max_seconds=8.0)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        delays = [policy.delay(attempt) for _ in range(50)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1


def test_operator_file_entries_are_validated() -> None:
    hooks = parse_operator_file(
        {
            "webhooks": [
                {
                    "name": "ns/a",
                    "url": "https://x.example",
                    "events": ["query.completed"],
                    "secret": "s",
                }
            ]
        },
        "file",
    )
    assert hooks[0].id == "operator:ns:a"
    assert hooks[0].source == "operator"
    with pytest.raises(ValueError, match="unknown events"):
        parse_operator_file(
            [{"name": "b", "url": "https://x", "events": ["nope"], "secret": "s"}], "f"
        )
