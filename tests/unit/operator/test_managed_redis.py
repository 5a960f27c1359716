"""spec.redis.managed: the Redis children, its generated password, and SharedState."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import kubernetes_validate
import pydantic
import pytest
from ragkube_operator import conditions as cond
from ragkube_operator import kinds
from ragkube_operator.api_deployment import api_deployment
from ragkube_operator.api_secret import api_secret, generated_values
from ragkube_operator.children import plan
from ragkube_operator.network_policy import redis_network_policy
from ragkube_operator.redis_config import redis_conf, redis_configmap
from ragkube_operator.redis_service import redis_service
from ragkube_operator.redis_statefulset import redis_statefulset
from ragkube_operator.shared_state import shared_state_condition
from ragkube_operator.status import with_redis
from ragkube_operator.volume_claims import keep_live_claim

from .operator_factories import KUBERNETES_VERSION, make_rd

MANAGED = {"redis": {"managed": True}}
VALUES = {"jwt-secret-key": "j" * 48, "chroma-auth-token": "t" * 48, "redis-password": "pw" * 24}


def _decoded(secret: dict[str, Any]) -> dict[str, str]:
    return {k: base64.b64decode(v).decode() for k, v in secret["data"].items()}


def _planned(spec: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    result = plan(
        make_rd(**spec), secret_values=VALUES, webhooks=[], hmac_keys={}, served=frozenset()
    )
    return {(o["kind"], o["metadata"]["name"]): o for o in result.apply}


def test_managed_redis_adds_its_statefulset_service_config_and_network_policy() -> None:
    children = _planned(MANAGED)
    for key in [
        ("StatefulSet", "demo-redis"),
        ("Service", "demo-redis"),
        ("ConfigMap", "demo-redis-config"),
        ("NetworkPolicy", "demo-redis"),
    ]:
        assert key in children, key
        kubernetes_validate.validate(children[key], KUBERNETES_VERSION, strict=True)
    assert ("StatefulSet", "demo-redis") not in _planned({})
    without_policies = _planned({**MANAGED, "networkPolicy": {"enabled": False}})
    assert ("NetworkPolicy", "demo-redis") not in without_policies


def test_a_password_is_generated_once_and_kept() -> None:
    rd = make_rd(**MANAGED)
    first = generated_values(rd, None)
    assert len(first["redis-password"]) >= 48
    stored = api_secret(rd, first)["data"]
    assert generated_values(rd, stored) == first
    assert "redis-password" not in generated_values(make_rd(), None)


def test_the_secret_holds_the_api_url_and_only_a_hash_for_redis() -> None:
    data = _decoded(api_secret(make_rd(**MANAGED), VALUES))
    password = VALUES["redis-password"]
    assert data["redis-url"] == f"redis://default:{password}@demo-redis.team-a.svc:6379/0"
    digest = hashlib.sha256(password.encode()).hexdigest()
    assert data["redis-users.acl"] == f"user default on #{digest} ~* &* +@all\n"
    assert password not in data["redis-users.acl"]


def test_the_redis_config_and_pod_spec_carry_no_password() -> None:
    rd = make_rd(**MANAGED)
    password = VALUES["redis-password"]
    assert password not in str(redis_configmap(rd))
    assert password not in str(redis_statefulset(rd, checksum="c"))
    assert "appendonly yes" in redis_conf()
    assert "aclfile /etc/redis/acl/users.acl" in redis_conf()


def test_api_pods_read_redis_url_from_the_generated_secret() -> None:
    env = api_deployment(make_rd(**MANAGED), checksum="c")["spec"]["template"]["spec"][
        "containers"
    ][0]["env"]
    redis = next(e for e in env if e["name"] == "REDIS_URL")
    assert redis["valueFrom"]["secretKeyRef"] == {"name": "demo-secrets", "key": "redis-url"}


def test_redis_pod_is_non_root_read_only_probed_and_persistent() -> None:
    sts = redis_statefulset(
        make_rd(redis={"managed": True, "storage": {"size": "5Gi"}}), checksum="c"
    )
    pod = sts["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert "redis-cli" in " ".join(container["readinessProbe"]["exec"]["command"])
    assert container["livenessProbe"]["tcpSocket"] == {"port": "redis"}
    claim = sts["spec"]["volumeClaimTemplates"][0]
    assert claim["spec"]["resources"]["requests"]["storage"] == "5Gi"
    assert {"name": "data", "mountPath": "/data"} in container["volumeMounts"]
    assert sts["spec"]["template"]["metadata"]["annotations"]["ragkube.dev/config-checksum"] == "c"


def test_only_the_api_pods_may_reach_redis() -> None:
    spec = redis_network_policy(make_rd(**MANAGED))["spec"]
    assert spec["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "redis"
    source = spec["ingress"][0]["from"][0]["podSelector"]["matchLabels"]
    assert source["app.kubernetes.io/component"] == "api"
    assert source["app.kubernetes.io/instance"] == "demo"
    assert spec["ingress"][0]["ports"] == [{"protocol": "TCP", "port": 6379}]
    assert redis_service(make_rd(**MANAGED))["spec"]["clusterIP"] == "None"


def test_managed_redis_and_a_url_secret_are_alternatives() -> None:
    with pytest.raises(pydantic.ValidationError, match="alternatives"):
        make_rd(redis={"managed": True, "urlSecretRef": {"name": "r", "key": "url"}})


@pytest.mark.parametrize(
    ("spec", "status", "reason"),
    [
        ({}, "False", "PerPodState"),
        ({"api": {"replicas": 1}}, "True", "SingleReplica"),
        (
            {"api": {"replicas": 1, "autoscaling": {"enabled": True, "minReplicas": 1}}},
            "False",
            "PerPodState",
        ),
        (
            {"api": {"autoscaling": {"enabled": True, "minReplicas": 1, "maxReplicas": 1}}},
            "True",
            "SingleReplica",
        ),
        (MANAGED, "True", "ManagedRedis"),
        ({"redis": {"urlSecretRef": {"name": "r", "key": "url"}}}, "True", "ExternalRedis"),
    ],
    ids=[
        "two replicas",
        "one replica",
        "autoscaling up to 5",
        "autoscaling to 1",
        "managed",
        "own",
    ],
)
def test_shared_state_condition(spec: dict[str, Any], status: str, reason: str) -> None:
    type_, got_status, got_reason, _ = shared_state_condition(make_rd(**spec))
    assert (type_, got_status, got_reason) == (cond.SHARED_STATE, status, reason)


def test_per_pod_state_says_exactly_what_is_per_pod_and_how_to_fix_it() -> None:
    message = shared_state_condition(make_rd())[3]
    for what in ("rate-limit", "answer cache", "conversation memory", "webhook deliveries"):
        assert what in message
    assert "spec.redis.managed: true" in message


def _sts(ready: int) -> dict[str, Any]:
    return {
        "metadata": {"name": "demo-redis", "generation": 1},
        "spec": {"replicas": 1},
        "status": {"observedGeneration": 1, "updatedReplicas": 1, "readyReplicas": ready},
    }


def test_shared_state_follows_the_managed_redis_readiness() -> None:
    managed = shared_state_condition(make_rd(**MANAGED))
    assert with_redis(managed, None) == managed
    assert with_redis(managed, _sts(0))[1:3] == ("False", "RedisNotReady")
    assert with_redis(with_redis(managed, _sts(0)), _sts(1))[1:3] == ("True", "ManagedRedis")
    per_pod = shared_state_condition(make_rd())
    assert with_redis(per_pod, _sts(1)) == per_pod


def test_served_kinds_do_not_change_the_redis_children() -> None:
    everything = plan(
        make_rd(**MANAGED),
        secret_values=VALUES,
        webhooks=[],
        hmac_keys={},
        served=frozenset(kinds.OPTIONAL_APIS),
    )
    assert {(o["kind"], o["metadata"]["name"]) for o in everything.apply} >= set(_planned(MANAGED))


def test_a_redis_storage_change_is_held_back_and_names_its_own_field() -> None:
    live = redis_statefulset(make_rd(**MANAGED), checksum="c")
    rd = make_rd(redis={"managed": True, "storage": {"size": "9Gi"}})
    kept, problem = keep_live_claim(rd, redis_statefulset(rd, checksum="c"), live)
    assert problem is not None
    assert "spec.redis.storage asks for size 9Gi" in problem
    assert "data-demo-redis-0" in problem
    assert kept["spec"]["volumeClaimTemplates"] == live["spec"]["volumeClaimTemplates"]
