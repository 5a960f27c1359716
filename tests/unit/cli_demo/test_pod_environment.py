"""A container's environment resolves as the kubelet would resolve it."""

from __future__ import annotations

import base64

import pytest

from ragkube_cli.pod_environment import UnresolvableEnvironment, container_environment


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


CONFIGMAPS = {"settings": {"data": {"LOG_LEVEL": "INFO", "CHROMA_PORT": "8000"}}}
SECRETS = {"keys": {"data": {"jwt": b64("s3cret-signing-key")}}}


def test_env_from_configmap_and_secret_key_refs_are_resolved() -> None:
    container = {
        "envFrom": [{"configMapRef": {"name": "settings"}}],
        "env": [
            {
                "name": "JWT_SECRET_KEY",
                "valueFrom": {"secretKeyRef": {"name": "keys", "key": "jwt"}},
            },
            {"name": "LOG_LEVEL", "value": "DEBUG"},
        ],
    }

    env = container_environment(container, CONFIGMAPS, SECRETS)

    assert env == {
        "LOG_LEVEL": "DEBUG",
        "CHROMA_PORT": "8000",
        "JWT_SECRET_KEY": "s3cret-signing-key",
    }


def test_missing_optional_reference_is_left_out() -> None:
    container = {
        "env": [
            {
                "name": "OPENAI_API_KEY",
                "valueFrom": {"secretKeyRef": {"name": "llm", "key": "key", "optional": True}},
            }
        ]
    }

    assert container_environment(container, CONFIGMAPS, SECRETS) == {}


def test_missing_required_reference_names_the_variable() -> None:
    container = {
        "env": [
            {"name": "REDIS_URL", "valueFrom": {"secretKeyRef": {"name": "keys", "key": "redis"}}}
        ]
    }

    with pytest.raises(UnresolvableEnvironment, match="REDIS_URL: Secret keys has no key redis"):
        container_environment(container, CONFIGMAPS, SECRETS)
