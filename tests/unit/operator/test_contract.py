"""The operator renders exactly the settings the API image's contract names."""

from __future__ import annotations

from typing import Any

import pydantic
import pytest
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import api_deployment

from ragkube_contract import api_image

from .operator_factories import make_rd

FULL: dict[str, Any] = {
    "auth": {"usersSecretRef": {"name": "users", "key": "users.json"}},
    "llm": {
        "provider": "openai-compatible",
        "model": "gpt-4o-mini",
        "baseURL": "https://llm.example.com/v1",
        "apiKeySecretRef": {"name": "openai", "key": "api-key"},
    },
    "redis": {"urlSecretRef": {"name": "redis", "key": "url"}},
    "exposure": {"trustedProxies": ["10.0.0.0/8"]},
}


@pytest.mark.parametrize("spec", [{}, FULL], ids=["defaults", "everything set"])
def test_configmap_sets_only_contract_names(spec: dict[str, Any]) -> None:
    data = api_configmap(make_rd(**spec))["data"]
    assert set(data) <= set(api_image.CONFIG_ENV)
    assert all(isinstance(value, str) for value in data.values())


def test_configmap_sets_every_contract_name_when_everything_is_configured() -> None:
    assert set(api_configmap(make_rd(**FULL))["data"]) == set(api_image.CONFIG_ENV)


def _container(spec: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = api_deployment(make_rd(**spec), checksum="c")["spec"]["template"][
        "spec"
    ]["containers"][0]
    return container


def test_secret_env_sets_exactly_the_contract_names_when_everything_is_configured() -> None:
    names = {e["name"] for e in _container(FULL)["env"] if "valueFrom" in e}
    assert names == set(api_image.SECRET_ENV)


def test_secrets_never_reach_the_configmap() -> None:
    data = api_configmap(make_rd(**FULL))["data"]
    assert not set(data) & set(api_image.SECRET_ENV)


def test_probes_and_port_follow_the_contract() -> None:
    container = _container({})
    assert container["ports"][0]["containerPort"] == api_image.API_PORT
    assert container["livenessProbe"]["httpGet"]["path"] == api_image.LIVENESS_PATH
    assert container["readinessProbe"]["httpGet"]["path"] == api_image.READINESS_PATH
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["webhooks"] == api_image.WEBHOOKS_MOUNT_DIR


def test_users_file_points_into_the_users_mount() -> None:
    data = api_configmap(make_rd(**FULL))["data"]
    container = _container(FULL)
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert data["USERS_FILE"] == f"{mounts['users']}/{api_image.USERS_FILE_NAME}"
    assert data["WEBHOOKS_FILE"] == f"{mounts['webhooks']}/{api_image.WEBHOOKS_FILE_NAME}"


def test_retrieval_settings_reach_the_api_environment() -> None:
    rd = make_rd(retrieval={"mode": "hybrid", "topK": 7, "fusionDenseWeight": 0.2})
    data = api_configmap(rd)["data"]
    assert data["RETRIEVAL_TOP_K"] == "7"
    assert data["RETRIEVAL_FUSION_DENSE_WEIGHT"] == "0.2"
    assert api_configmap(make_rd())["data"]["RETRIEVAL_FUSION_DENSE_WEIGHT"] == "0.5"


def test_fusion_dense_weight_outside_zero_to_one_is_refused() -> None:
    with pytest.raises(pydantic.ValidationError, match="fusionDenseWeight"):
        make_rd(retrieval={"fusionDenseWeight": 1.5})
