"""Pure decisions about hostile input: whose object a name is, what a Secret lacks, what
Kubernetes will not let change, and which spec entries would break an apply."""

from __future__ import annotations

import base64
from typing import Any

import kopf
import kubernetes
import pydantic
import pytest
from ragkube_operator import ownership, secret_keys
from ragkube_operator.children import plan, within_live_limits
from ragkube_operator.chroma_statefulset import chroma_statefulset
from ragkube_operator.handlers.rag_deployment import spec_problems
from ragkube_operator.kubeapi import ObjectRef, ref_of, sorted_error
from ragkube_operator.models import API_VERSION, SecretKeyRef
from ragkube_operator.volume_claims import keep_live_claim

from .operator_factories import make_rd

VALUES = {"jwt-secret-key": "j", "chroma-auth-token": "t"}


def _owned(obj: dict[str, Any], rd_name: str, uid: str = "u-1") -> dict[str, Any]:
    owner = {"apiVersion": API_VERSION, "kind": "RagDeployment", "name": rd_name, "uid": uid}
    return {**obj, "metadata": {**obj["metadata"], "uid": "c-1", "ownerReferences": [owner]}}


def _configmap(name: str = "demo-api-config") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": name, "namespace": "team-a", "uid": "c-1"},
    }


@pytest.mark.parametrize(
    ("live", "conflicting"),
    [
        (None, False),
        (_configmap(), True),
        (_owned(_configmap(), "demo"), False),
        (_owned(_configmap(), "demo", uid="an-earlier-demo"), False),
        (_owned(_configmap(), "other"), True),
    ],
    ids=["absent", "unowned", "owned", "owned-by-earlier-same-name", "owned-by-another"],
)
def test_only_absent_or_own_objects_may_be_applied(
    live: dict[str, Any] | None, conflicting: bool
) -> None:
    desired = _configmap()
    problems = ownership.conflicts([desired], {ref_of(desired): live}, "demo")
    assert bool(problems) is conflicting
    if conflicting:
        assert "ConfigMap team-a/demo-api-config already exists" in problems[0]


def test_only_own_objects_are_deleted() -> None:
    mine = ObjectRef("autoscaling/v2", "HorizontalPodAutoscaler", "team-a", "demo-api")
    theirs = ObjectRef("networking.k8s.io/v1", "NetworkPolicy", "team-a", "demo-chroma")
    gone = ObjectRef("policy/v1", "PodDisruptionBudget", "team-a", "demo-api")
    live = {
        mine: _owned({"metadata": {"name": "demo-api"}}, "demo"),
        theirs: {"metadata": {"name": "demo-chroma", "uid": "x"}},
        gone: None,
    }
    assert ownership.deletable([mine, theirs, gone], live, "demo") == [(mine, "c-1")]


def _secret(**data: bytes) -> dict[str, Any]:
    return {"data": {k: base64.b64encode(v).decode() for k, v in data.items()}}


def test_missing_secret_and_missing_key_are_told_apart() -> None:
    ref = SecretKeyRef(name="llm", key="api-key")
    path = "spec.llm.apiKeySecretRef"
    assert "Secret ns/llm, which does not exist" in str(secret_keys.missing(path, "ns", ref, None))
    lacking = secret_keys.missing(path, "ns", ref, _secret(token=b"x"))
    assert lacking is not None
    assert "no such key (its keys: 'token')" in lacking
    assert lacking.startswith(path)
    assert secret_keys.missing(path, "ns", ref, _secret(**{"api-key": b"x"})) is None


def test_secret_value_is_text_or_refused() -> None:
    assert secret_keys.text_value(_secret(k=b"s3cr3t"), "k") == "s3cr3t"
    assert secret_keys.text_value(None, "k") is None
    assert secret_keys.text_value(_secret(other=b"x"), "k") is None
    with pytest.raises(secret_keys.SecretValueNotText):
        secret_keys.text_value(_secret(k=b"\xff\xfe\x00"), "k")


def _live_statefulset(size: str, storage_class: str | None = None) -> dict[str, Any]:
    live = chroma_statefulset(make_rd(vectorStore={"chroma": {"storage": {"size": size}}}))
    if storage_class:
        live["spec"]["volumeClaimTemplates"][0]["spec"]["storageClassName"] = storage_class
    return live


@pytest.mark.parametrize(
    ("storage", "live", "refused"),
    [
        ({"size": "1Gi"}, None, False),
        ({"size": "1Gi"}, _live_statefulset("1Gi"), False),
        ({"size": "1024Mi"}, _live_statefulset("1Gi"), False),
        ({"size": "5Gi"}, _live_statefulset("1Gi"), True),
        ({"size": "1Gi", "storageClassName": "fast"}, _live_statefulset("1Gi"), True),
        ({"size": "1Gi"}, _live_statefulset("1Gi", "fast"), True),
    ],
    ids=["new", "same", "same-quantity", "bigger", "class-added", "class-removed"],
)
def test_volume_claim_template_is_never_changed(
    storage: dict[str, Any], live: dict[str, Any] | None, refused: bool
) -> None:
    rd = make_rd(vectorStore={"chroma": {"storage": storage}})
    desired = chroma_statefulset(rd)
    kept, problem = keep_live_claim(rd, desired, live)
    assert (problem is not None) is refused
    if live is not None and refused:
        assert kept["spec"]["volumeClaimTemplates"] == live["spec"]["volumeClaimTemplates"]
        assert "data-demo-chroma-0" in problem  # type: ignore[operator]
        # Everything but the claim template still follows the spec.
        assert kept["spec"]["template"] == desired["spec"]["template"]
    else:
        assert kept == desired


def test_held_back_storage_leaves_the_rest_of_the_plan() -> None:
    rd = make_rd(vectorStore={"chroma": {"storage": {"size": "5Gi"}}})
    desired = plan(rd, secret_values=VALUES, webhooks=[], hmac_keys={}, served=frozenset())
    live_sts = _live_statefulset("1Gi")
    settled, problems = within_live_limits(rd, desired, {ref_of(live_sts): live_sts})
    assert len(problems) == 1
    assert "size 5Gi" in problems[0]
    assert [ref_of(o) for o in settled.apply] == [ref_of(o) for o in desired.apply]
    assert settled.delete == desired.delete


@pytest.mark.parametrize(
    "name", ["JWT_SECRET_KEY", "CHROMA_AUTH_TOKEN", "OPENAI_API_KEY", "REDIS_URL"]
)
def test_env_the_operator_sets_from_secrets_is_a_spec_problem(name: str) -> None:
    problems = spec_problems(make_rd(api={"env": [{"name": name, "value": "x"}]}))
    assert len(problems) == 1
    assert problems[0].startswith(f"spec.api.env sets {name}")


def test_env_overriding_a_plain_setting_is_allowed() -> None:
    assert spec_problems(make_rd(api={"env": [{"name": "LOG_FORMAT", "value": "console"}]})) == []


def test_env_name_given_twice_is_refused_by_the_model() -> None:
    with pytest.raises(pydantic.ValidationError, match="more than once"):
        make_rd(api={"env": [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]})


def test_apply_that_cannot_be_built_is_a_permanent_error() -> None:
    exc = kubernetes.client.ApiException(status=500, reason="Internal Server Error")
    exc.body = (
        '{"message": "failed to create typed patch object (ns/x; apps/v1, Kind=Deployment): '
        '.spec.template.spec.containers[name=\\"api\\"].env: duplicate entries"}'
    )
    assert isinstance(sorted_error("applying Deployment ns/x", exc), kopf.PermanentError)
    plain = kubernetes.client.ApiException(status=500, reason="Internal Server Error")
    assert isinstance(sorted_error("applying Deployment ns/x", plain), kopf.TemporaryError)


@pytest.mark.parametrize(
    "name",
    ["a" * 253, "team-a.llm-credentials.v2", "0-starts-with-a-digit"],
    ids=["253 characters", "dotted", "digit first"],
)
def test_a_secret_may_be_referenced_by_any_name_kubernetes_allows(name: str) -> None:
    # A Secret's name is a DNS-1123 subdomain of up to 253 characters; the operator never
    # prefixes a child's name with it, so it need not be as short as a RagDeployment's name.
    rd = make_rd(llm={"apiKeySecretRef": {"name": name, "key": "api-key"}})

    assert rd.spec.llm.api_key_secret_ref == SecretKeyRef(name=name, key="api-key")


@pytest.mark.parametrize("name", ["a" * 254, "Upper", "under_score", "trailing-", "a..b"])
def test_a_secret_name_kubernetes_would_refuse_is_refused(name: str) -> None:
    with pytest.raises(pydantic.ValidationError):
        make_rd(llm={"apiKeySecretRef": {"name": name, "key": "api-key"}})
