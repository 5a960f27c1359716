"""The API Deployment is secure, probed, and rolls when its settings change."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import (
    CONFIG_CHECKSUM_ANNOTATION,
    api_deployment,
    config_checksum,
)
from ragkube_operator.api_secret import api_secret, generated_keys, generated_values

from .operator_factories import make_rd


def _pod(spec: dict[str, Any]) -> dict[str, Any]:
    pod: dict[str, Any] = api_deployment(make_rd(**spec), checksum="c")["spec"]["template"]
    return pod


def test_pods_run_restricted() -> None:
    pod = _pod({})["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert isinstance(pod["securityContext"]["runAsUser"], int)
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = pod["containers"][0]["securityContext"]
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert pod["automountServiceAccountToken"] is False


def test_settings_change_changes_the_checksum_annotation() -> None:
    def checksum(spec: dict[str, Any]) -> str:
        rd = make_rd(**spec)
        values = {"jwt-secret-key": "j", "chroma-auth-token": "t"}
        return config_checksum(api_configmap(rd), api_secret(rd, values))

    assert checksum({}) == checksum({})
    assert checksum({}) != checksum({"retrieval": {"topK": 7}})
    rd = make_rd()
    pod = api_deployment(rd, checksum="abc")["spec"]["template"]
    assert pod["metadata"]["annotations"][CONFIG_CHECKSUM_ANNOTATION] == "abc"


@pytest.mark.parametrize(
    ("autoscaling", "has_replicas"), [(False, True), (True, False)], ids=["fixed", "hpa"]
)
def test_replicas_belong_to_the_hpa_when_autoscaling(autoscaling: bool, has_replicas: bool) -> None:
    deployment = api_deployment(
        make_rd(api={"replicas": 3, "autoscaling": {"enabled": autoscaling}}), checksum="c"
    )
    assert ("replicas" in deployment["spec"]) is has_replicas


def test_user_supplied_jwt_secret_is_referenced_not_generated() -> None:
    rd = make_rd(auth={"jwtSecretRef": {"name": "mine", "key": "jwt"}})
    assert "jwt-secret-key" not in generated_keys(rd)
    env = _pod({"auth": {"jwtSecretRef": {"name": "mine", "key": "jwt"}}})["spec"]["containers"][0][
        "env"
    ]
    jwt = next(e for e in env if e["name"] == "JWT_SECRET_KEY")
    assert jwt["valueFrom"]["secretKeyRef"] == {"name": "mine", "key": "jwt"}


def test_generated_secrets_are_kept_once_created() -> None:
    rd = make_rd()
    first = generated_values(rd, None)
    assert all(len(value) >= 64 for value in first.values())
    stored = api_secret(rd, first)["data"]
    assert generated_values(rd, stored) == first
    assert generated_values(rd, None) != first


def test_a_hand_edited_generated_secret_never_stops_the_reconcile() -> None:
    # Someone added a binary key of their own and overwrote the JWT key with bytes that are
    # not text: their key is ignored, the unusable JWT key is replaced, the token is kept.
    rd = make_rd()
    stored = dict(api_secret(rd, generated_values(rd, None))["data"])
    token = generated_values(rd, stored)["chroma-auth-token"]
    stored["their-key"] = base64.b64encode(b"\xff\xfe").decode()
    stored["jwt-secret-key"] = base64.b64encode(b"\x80not text").decode()

    values = generated_values(rd, stored)

    assert set(values) == {"jwt-secret-key", "chroma-auth-token", "lexical-index-token"}
    assert values["chroma-auth-token"] == token
    assert len(values["jwt-secret-key"]) >= 64
