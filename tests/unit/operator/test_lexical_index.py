"""The lexical index server in the storage tier: its children, token, API wiring and status."""

from __future__ import annotations

import base64
from typing import Any

import kubernetes_validate
import pytest
from ragkube_operator import conditions as cond
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import api_deployment
from ragkube_operator.api_secret import INDEX_TOKEN_KEY, api_secret, generated_values
from ragkube_operator.children import plan
from ragkube_operator.index_service import index_service
from ragkube_operator.index_statefulset import index_statefulset, token_checksum
from ragkube_operator.network_policy import index_network_policy
from ragkube_operator.status import transitions, with_workloads
from ragkube_operator.volume_claims import keep_live_claim

from ragkube_contract import index_server

from .operator_factories import KUBERNETES_VERSION, make_rd

VALUES = {"jwt-secret-key": "j" * 48, "chroma-auth-token": "t" * 48, INDEX_TOKEN_KEY: "i" * 48}
SPECS: dict[str, dict[str, Any]] = {
    "defaults": {},
    "storage class and resources": {
        "vectorStore": {
            "lexicalIndex": {
                "storage": {"size": "20Gi", "storageClassName": "fast"},
                "resources": {"requests": {"cpu": "1", "memory": "2Gi"}, "limits": {"cpu": 2}},
            }
        }
    },
    "development, own image": {
        "environment": "development",
        "api": {"image": "registry.example.com/ragkube/api:1.2.3", "imagePullPolicy": "Always"},
    },
    "user jwt key": {"auth": {"jwtSecretRef": {"name": "jwt", "key": "k"}}},
}


def _planned(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    result = plan(
        make_rd(**spec), secret_values=VALUES, webhooks=[], hmac_keys={}, served=frozenset()
    )
    return {(o["kind"], o["metadata"]["name"]): o for o in result.apply}


def _container(obj: dict[str, Any]) -> dict[str, Any]:
    container: dict[str, Any] = obj["spec"]["template"]["spec"]["containers"][0]
    return container


def _env(container: dict[str, Any]) -> dict[str, Any]:
    return {var["name"]: var.get("value", var.get("valueFrom")) for var in container["env"]}


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_every_deployment_gets_an_index_server_statefulset_service_and_policy(
    spec: dict[str, Any],
) -> None:
    children = _planned(spec)
    for key in [
        ("StatefulSet", "demo-index"),
        ("Service", "demo-index"),
        ("NetworkPolicy", "demo-index"),
    ]:
        assert key in children, key
        kubernetes_validate.validate(children[key], KUBERNETES_VERSION, strict=True)
        labels = children[key]["metadata"]["labels"]
        assert labels["app.kubernetes.io/component"] == "lexical-index"
        assert labels["app.kubernetes.io/instance"] == "demo"
    assert ("NetworkPolicy", "demo-index") not in _planned({"networkPolicy": {"enabled": False}})


@pytest.mark.parametrize("spec", SPECS.values(), ids=SPECS.keys())
def test_the_index_pod_runs_the_api_image_non_root_read_only_probed_and_persistent(
    spec: dict[str, Any],
) -> None:
    rd = make_rd(**spec)
    sts = index_statefulset(rd, checksum="c")
    pod = sts["spec"]["template"]["spec"]
    container = _container(sts)
    assert sts["spec"]["replicas"] == 1
    assert container["image"] == rd.spec.api.image
    assert container["imagePullPolicy"] == rd.spec.api.image_pull_policy
    assert container["command"] == ["python", "-m", "ragkube_index"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["automountServiceAccountToken"] is False
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert container["ports"][0]["containerPort"] == index_server.INDEX_PORT
    assert container["readinessProbe"]["httpGet"] == {
        "path": index_server.INDEX_READINESS_PATH,
        "port": "http",
    }
    assert container["livenessProbe"]["httpGet"] == {
        "path": index_server.INDEX_LIVENESS_PATH,
        "port": "http",
    }
    lexical = rd.spec.vector_store.lexical_index
    assert container["resources"] == lexical.resources.model_dump(mode="json")
    claim = sts["spec"]["volumeClaimTemplates"][0]["spec"]
    assert claim["resources"]["requests"]["storage"] == lexical.storage.size
    assert claim.get("storageClassName") == lexical.storage.storage_class_name
    env = _env(container)
    data_dir = env[index_server.INDEX_DATA_DIR_ENV]
    assert {"name": "data", "mountPath": data_dir} in container["volumeMounts"]
    assert env["RAGKUBE_ENV"] == rd.spec.environment
    assert env[index_server.INDEX_PORT_ENV] == str(index_server.INDEX_PORT)
    assert env[index_server.INDEX_AUTH_TOKEN_ENV] == {
        "secretKeyRef": {"name": "demo-secrets", "key": INDEX_TOKEN_KEY}
    }


def test_a_token_is_generated_once_kept_and_never_in_the_pod_specs() -> None:
    for rd in (make_rd(), make_rd(auth={"jwtSecretRef": {"name": "jwt", "key": "k"}})):
        first = generated_values(rd, None)
        assert len(first[INDEX_TOKEN_KEY]) >= 48
        stored = api_secret(rd, first)["data"]
        assert generated_values(rd, stored) == first
        assert base64.b64decode(stored[INDEX_TOKEN_KEY]).decode() == first[INDEX_TOKEN_KEY]
    children = _planned({})
    for key in [("StatefulSet", "demo-index"), ("Deployment", "demo-api")]:
        assert VALUES[INDEX_TOKEN_KEY] not in str(children[key])


def test_a_rotated_token_rolls_the_index_pod_and_a_rotated_jwt_key_does_not() -> None:
    rd = make_rd()

    def annotation(values: dict[str, str]) -> str:
        checksum = token_checksum(api_secret(rd, values))
        template = index_statefulset(rd, checksum=checksum)["spec"]["template"]
        return str(template["metadata"]["annotations"]["ragkube.dev/config-checksum"])

    before = annotation(VALUES)
    assert annotation({**VALUES, "jwt-secret-key": "k" * 48}) == before
    assert annotation({**VALUES, INDEX_TOKEN_KEY: "n" * 48}) != before
    planned = _planned({})[("StatefulSet", "demo-index")]["spec"]["template"]["metadata"]
    assert planned["annotations"]["ragkube.dev/config-checksum"] == before


def test_api_pods_reach_the_index_server_by_its_service_with_the_generated_token() -> None:
    rd = make_rd(namespace="team-b")
    settings = api_configmap(rd)["data"]
    service = index_service(rd)
    assert settings[index_server.LEXICAL_INDEX_URL_ENV] == (
        f"http://{service['metadata']['name']}.team-b.svc:{index_server.INDEX_PORT}"
    )
    assert service["spec"]["ports"][0]["port"] == index_server.INDEX_PORT
    assert (
        service["spec"]["selector"]
        == index_statefulset(rd, checksum="c")["spec"]["selector"]["matchLabels"]
    )
    env = _env(_container(api_deployment(rd, checksum="c")))
    assert env[index_server.LEXICAL_INDEX_TOKEN_ENV] == {
        "secretKeyRef": {"name": "demo-secrets", "key": INDEX_TOKEN_KEY}
    }


def test_only_this_deployments_api_pods_may_reach_the_index_server() -> None:
    spec = index_network_policy(make_rd())["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "lexical-index"
    source = spec["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert source["app.kubernetes.io/component"] == "api"
    assert source["app.kubernetes.io/instance"] == "demo"
    assert spec["ingress"][0]["ports"] == [{"protocol": "TCP", "port": index_server.INDEX_PORT}]
    assert spec["policyTypes"] == ["Ingress"]


def test_an_index_storage_change_is_held_back_and_names_its_own_field() -> None:
    live = index_statefulset(make_rd(), checksum="c")
    rd = make_rd(vectorStore={"lexicalIndex": {"storage": {"size": "9Gi"}}})
    kept, problem = keep_live_claim(rd, index_statefulset(rd, checksum="c"), live)
    assert problem is not None
    assert "spec.vectorStore.lexicalIndex.storage asks for size 9Gi" in problem
    assert "data-demo-index-0" in problem
    assert kept["spec"]["volumeClaimTemplates"] == live["spec"]["volumeClaimTemplates"]


def _workload(desired: int, ready: int) -> dict[str, Any]:
    return {
        "metadata": {"generation": 1},
        "spec": {"replicas": desired},
        "status": {"observedGeneration": 1, "updatedReplicas": desired, "readyReplicas": ready},
    }


INDEX_STATES = [
    (None, "False", cond.REASON_NOT_CREATED, "Progressing"),
    (_workload(1, 0), "False", cond.REASON_ROLLOUT_IN_PROGRESS, "Progressing"),
    (_workload(1, 1), "True", cond.REASON_AVAILABLE, "Ready"),
]


@pytest.mark.parametrize(("index", "status", "reason", "phase"), INDEX_STATES)
def test_lexical_index_ready_follows_the_index_statefulset_and_gates_ready(
    index: dict[str, Any] | None, status: str, reason: str, phase: str
) -> None:
    result = with_workloads(
        {"conditions": [{"type": "Reconciled", "status": "True", "reason": "Reconciled"}]},
        deployment=_workload(2, 2),
        statefulset=_workload(1, 1),
        index=index,
        generation=1,
        now="t",
    )
    lexical = cond.find(result["conditions"], cond.LEXICAL_INDEX_READY)
    assert lexical is not None
    assert (lexical["status"], lexical["reason"]) == (status, reason)
    assert "lexical index server" in lexical["message"]
    assert result["phase"] == phase
    ready = cond.find(result["conditions"], cond.READY)
    assert ready is not None
    assert ready["status"] == status
    if status == "False":
        assert ready["message"] == "Waiting for LexicalIndexReady."


def _with_index(status: dict[str, Any], index: dict[str, Any] | None) -> dict[str, Any]:
    return with_workloads(
        status,
        deployment=_workload(1, 1),
        statefulset=_workload(1, 1),
        index=index,
        generation=1,
        now="t",
    )


def test_a_flip_of_lexical_index_ready_is_announced_and_its_first_setting_is_not() -> None:
    reconciled = {"type": "Reconciled", "status": "True", "reason": "Reconciled"}
    first = _with_index({"conditions": [reconciled]}, None)
    assert transitions([reconciled], first["conditions"]) == []
    ready = _with_index(first, _workload(1, 1))
    message = "1/1 lexical index server pods are ready."
    assert transitions(first["conditions"], ready["conditions"]) == [
        (cond.LEXICAL_INDEX_READY, "True", cond.REASON_AVAILABLE, message)
    ]
    unchanged = _with_index(ready, _workload(1, 1))
    assert transitions(ready["conditions"], unchanged["conditions"]) == []
    pod_lost = _workload(1, 0)
    pod_lost["status"]["conditions"] = [{"type": "Progressing", "reason": "NewReplicaSetAvailable"}]
    lost = _with_index(ready, pod_lost)
    (flip,) = transitions(ready["conditions"], lost["conditions"])
    assert flip[:3] == (cond.LEXICAL_INDEX_READY, "False", cond.REASON_PODS_NOT_READY)
    assert lost["phase"] == "Degraded"
