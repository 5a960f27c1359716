"""The settings contract: each shared setting has one default, one set of bounds and one
meaning in the CRD, the operator's ConfigMap, the API's Settings and rag_core."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple

import pytest
import yaml
from ragkube_operator.api_configmap import api_settings
from ragkube_operator.models import RagDeployment, RagDeploymentSpec

from api.settings import Settings
from rag_core.settings import RagSettings
from ragkube_contract import api_image
from ragkube_contract import settings as shared
from ragkube_contract.settings import Setting

CRD = Path(__file__).resolve().parents[3] / "crds" / "ragkube.dev_ragdeployments.yaml"
SECRET = "settings-contract-test-secret-" + "x" * 32


class Row(NamedTuple):
    """A shared setting: where a RagDeployment sets it, rag_core's name for it (None where
    rag_core has none), a value other than the default, and what else the spec then needs."""

    setting: Setting[Any]
    path: tuple[str, ...]
    rag_name: str | None
    other: Any
    extra: dict[str, Any]


ROWS = [
    Row(shared.RETRIEVAL_MODE, ("retrieval", "mode"), "retrieval_mode", "lexical", {}),
    Row(shared.RETRIEVAL_TOP_K, ("retrieval", "topK"), "top_k", 3, {}),
    Row(shared.RETRIEVAL_THRESHOLD, ("retrieval", "threshold"), "threshold", 0.6, {}),
    Row(
        shared.RETRIEVAL_FUSION_DENSE_WEIGHT,
        ("retrieval", "fusionDenseWeight"),
        "fusion_dense_weight",
        0.2,
        {},
    ),
    Row(shared.CHUNK_SIZE, ("retrieval", "chunkSize"), "chunk_size", 128, {}),
    Row(shared.CHUNK_OVERLAP, ("retrieval", "chunkOverlap"), "chunk_overlap", 16, {}),
    Row(
        shared.EMBEDDINGS_PROVIDER,
        ("embeddings", "provider"),
        "embeddings_provider",
        "openai-compatible",
        {"embeddings": {"dimension": 384}},
    ),
    Row(shared.EMBEDDINGS_MODEL, ("embeddings", "model"), "embeddings_model", "bge-small", {}),
    Row(shared.LLM_TIMEOUT_SECONDS, ("llm", "timeoutSeconds"), "llm_timeout_seconds", 45, {}),
    Row(shared.JWT_EXPIRE_MINUTES, ("auth", "tokenTTLMinutes"), None, 90, {}),
    Row(shared.RATE_LIMIT_REQUESTS, ("rateLimit", "requests"), None, 7, {}),
    Row(shared.RATE_LIMIT_WINDOW, ("rateLimit", "windowSeconds"), None, 30, {}),
    Row(shared.GUARDRAILS_ENABLED, ("guardrails", "enabled"), "guardrails_enabled", False, {}),
]
IDS = [row.setting.env for row in ROWS]


def _rd(spec: dict[str, Any]) -> RagDeployment:
    return RagDeployment(
        name="contract", namespace="ns", spec=RagDeploymentSpec.model_validate(spec)
    )


def _nested(path: tuple[str, ...], value: Any, extra: dict[str, Any]) -> dict[str, Any]:
    spec: dict[str, Any] = {key: dict(section) for key, section in extra.items()}
    node = spec
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = value
    return spec


def _api_reading(configmap: dict[str, str], env: pytest.MonkeyPatch) -> Settings:
    """The API's settings as an API pod reads this ConfigMap (plus its Secret's key) from
    its environment."""
    for name, value in {**configmap, "JWT_SECRET_KEY": SECRET}.items():
        env.setenv(name, value)
    return Settings()


def _crd_property(path: tuple[str, ...]) -> dict[str, Any]:
    schema = yaml.safe_load(CRD.read_text())["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    node: dict[str, Any] = schema["properties"]["spec"]
    for key in path:
        node = node["properties"][key]
    return node


def test_every_variable_the_operator_writes_is_declared_once() -> None:
    shared_names = [setting.env for setting in shared.SHARED]

    assert len(shared_names) == len(set(shared_names))
    assert set(shared_names).isdisjoint(shared.OPERATOR_CHOSEN)
    assert set(shared_names) | set(shared.OPERATOR_CHOSEN) == set(api_image.CONFIG_ENV)
    assert {row.setting.env for row in ROWS} == set(shared_names)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_the_crd_the_configmap_the_api_and_rag_core_share_the_default(
    row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    setting, rag_name = row.setting, row.rag_name
    crd = _crd_property(row.path)
    from_default_rd = _api_reading(api_settings(_rd({})), monkeypatch)

    assert crd["default"] == setting.default
    assert setting.env in crd["description"]
    assert Settings.model_fields[setting.field_name].default == setting.default
    assert getattr(from_default_rd, setting.field_name) == setting.default
    if rag_name is not None:
        assert getattr(RagSettings(), rag_name) == setting.default
        assert getattr(from_default_rd.to_rag_settings(), rag_name) == setting.default


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_the_crd_and_the_api_share_the_bounds(row: Row) -> None:
    setting = row.setting
    crd = _crd_property(row.path)
    api_schema = Settings.model_json_schema()["properties"][setting.field_name]

    for bound, crd_key, api_key in (
        (setting.ge, "minimum", "minimum"),
        (setting.gt, "exclusiveMinimum", "exclusiveMinimum"),
        (setting.le, "maximum", "maximum"),
    ):
        if bound is not None:
            assert crd[crd_key] == bound
            assert api_schema[api_key] == bound


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_a_value_set_in_the_spec_is_the_value_the_api_and_rag_core_use(
    row: Row, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert row.other != row.setting.default
    configmap = api_settings(_rd(_nested(row.path, row.other, row.extra)))

    api = _api_reading(configmap, monkeypatch)

    assert getattr(api, row.setting.field_name) == row.other
    if row.rag_name is not None:
        assert getattr(api.to_rag_settings(), row.rag_name) == row.other
