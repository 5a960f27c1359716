"""spec.exposure: the Ingress or HTTPRoute, the external URL, and when each is created."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pydantic
import pytest
import yaml
from ragkube_operator import conditions as cond
from ragkube_operator import kinds
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.children import plan
from ragkube_operator.exposure import exposure_condition, external_url
from ragkube_operator.handlers.optional_apis import is_optional_api, served_changed
from ragkube_operator.http_route import http_route
from ragkube_operator.ingress import ingress
from ragkube_operator.models import RagDeployment

from .operator_factories import KUBERNETES_VERSION, make_rd

VALUES = {"jwt-secret-key": "j", "chroma-auth-token": "t", "redis-password": "p"}
SAMPLES = Path(__file__).resolve().parents[3] / "samples"
INGRESS = {"ingress": {"ingressClassName": "nginx", "host": "rag.example.com"}}
ROUTE = {"httpRoute": {"parentRefs": [{"name": "public", "namespace": "infra"}]}}


@pytest.mark.parametrize(
    "exposure",
    [
        INGRESS,
        {"ingress": {}},
        {
            "ingress": {
                "host": "rag.example.com",
                "path": "/rag",
                "tls": {"certManager": {"name": "letsencrypt"}},
                "annotations": {"example.com/team": "search"},
            }
        },
        {"ingress": {"host": "rag.example.com", "tls": {"secretName": "rag-cert"}}},
    ],
    ids=["host", "no host", "cert-manager", "own certificate"],
)
def test_ingress_validates_against_the_kubernetes_schema(exposure: dict[str, Any]) -> None:
    kubernetes_validate.validate(
        ingress(make_rd(exposure=exposure)), KUBERNETES_VERSION, strict=True
    )


def test_ingress_routes_the_host_to_the_api_service_with_streaming_annotations() -> None:
    obj = ingress(make_rd(exposure={**INGRESS, "timeoutSeconds": 900}))

    assert obj["metadata"]["name"] == "demo-api"
    assert obj["spec"]["ingressClassName"] == "nginx"
    rule = obj["spec"]["rules"][0]
    assert rule["host"] == "rag.example.com"
    backend = rule["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "demo-api", "port": {"number": 8000}}
    annotations = obj["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "900"
    assert annotations["haproxy.org/timeout-server"] == "900s"
    assert "tls" not in obj["spec"]


def test_user_annotations_win_over_the_streaming_defaults() -> None:
    annotations = {"nginx.ingress.kubernetes.io/proxy-read-timeout": "30"}
    obj = ingress(make_rd(exposure={"ingress": {"annotations": annotations}}))
    assert obj["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-read-timeout"] == "30"


def test_cert_manager_tls_sets_its_annotation_and_a_default_secret() -> None:
    tls = {"certManager": {"kind": "Issuer", "name": "team-ca"}}
    obj = ingress(make_rd(exposure={"ingress": {"host": "rag.example.com", "tls": tls}}))
    assert obj["metadata"]["annotations"]["cert-manager.io/issuer"] == "team-ca"
    assert obj["spec"]["tls"] == [{"hosts": ["rag.example.com"], "secretName": "demo-api-tls"}]


def test_http_route_attaches_to_the_gateway_and_rewrites_a_path_prefix() -> None:
    route = {
        "parentRefs": [{"name": "public", "namespace": "infra", "sectionName": "https"}],
        "hostnames": ["rag.example.com"],
        "path": "/rag",
    }
    obj = http_route(make_rd(exposure={"httpRoute": route, "timeoutSeconds": 120}))

    assert (obj["apiVersion"], obj["kind"]) == ("gateway.networking.k8s.io/v1", "HTTPRoute")
    assert obj["spec"]["parentRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "public",
            "namespace": "infra",
            "sectionName": "https",
        }
    ]
    assert obj["spec"]["hostnames"] == ["rag.example.com"]
    rule = obj["spec"]["rules"][0]
    assert rule["matches"] == [{"path": {"type": "PathPrefix", "value": "/rag"}}]
    assert rule["backendRefs"] == [{"name": "demo-api", "port": 8000, "weight": 1}]
    assert rule["timeouts"] == {"request": "120s"}
    assert rule["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == "/"


def test_http_route_at_the_root_needs_no_rewrite() -> None:
    assert "filters" not in http_route(make_rd(exposure=ROUTE))["spec"]["rules"][0]


@pytest.mark.parametrize(
    ("exposure", "url"),
    [
        ({}, None),
        ({"ingress": {}}, None),
        (INGRESS, "http://rag.example.com"),
        (
            {"ingress": {"host": "rag.example.com", "path": "/rag/", "tls": {"secretName": "c"}}},
            "https://rag.example.com/rag",
        ),
        (
            {"httpRoute": {**ROUTE["httpRoute"], "hostnames": ["a.example.com"]}},
            "https://a.example.com",
        ),
        ({"httpRoute": {**ROUTE["httpRoute"], "hostnames": ["*.example.com"]}}, None),
    ],
    ids=["none", "no host", "ingress", "ingress tls", "route", "wildcard"],
)
def test_external_url(exposure: dict[str, Any], url: str | None) -> None:
    assert external_url(make_rd(exposure=exposure)) == url


@pytest.mark.parametrize(
    ("exposure", "message"),
    [
        (
            {**INGRESS, **ROUTE},
            "exposure.ingress and exposure.httpRoute are alternatives",
        ),
        (
            {"ingress": {"tls": {"secretName": "cert"}}},
            "exposure.ingress.tls needs exposure.ingress.host",
        ),
        ({"ingress": {"host": "rag.example.com", "tls": {}}}, "needs secretName"),
        ({"trustedProxies": ["10.0.0.0/33"]}, "each trusted proxy is an IP address"),
        ({"httpRoute": {"parentRefs": []}}, "parentRefs"),
    ],
    ids=["both kinds", "tls without host", "tls without source", "bad proxy", "no parent"],
)
def test_invalid_exposure_is_refused_with_a_readable_message(
    exposure: dict[str, Any], message: str
) -> None:
    with pytest.raises(pydantic.ValidationError, match=message):
        make_rd(exposure=exposure)


def test_trusted_proxies_reach_the_api_settings() -> None:
    rd = make_rd(exposure={"trustedProxies": ["10.0.0.0/8", "192.168.1.7"]})
    assert api_configmap(rd)["data"]["TRUSTED_PROXIES"] == "10.0.0.0/8,192.168.1.7"
    assert "TRUSTED_PROXIES" not in api_configmap(make_rd())["data"]


def _routes(exposure: dict[str, Any], served: frozenset[kinds.Kind]) -> tuple[set[str], set[str]]:
    result = plan(
        make_rd(exposure=exposure), secret_values=VALUES, webhooks=[], hmac_keys={}, served=served
    )
    routes = {"Ingress", "HTTPRoute"}
    return (
        {o["kind"] for o in result.apply} & routes,
        {r.kind for r in result.delete} & routes,
    )


def test_a_route_kind_the_cluster_does_not_serve_is_neither_applied_nor_deleted() -> None:
    everything = frozenset(kinds.OPTIONAL_APIS)
    assert _routes(ROUTE, everything) == ({"HTTPRoute"}, {"Ingress"})
    assert _routes(ROUTE, everything - {kinds.HTTP_ROUTE}) == (set(), {"Ingress"})
    assert _routes(INGRESS, frozenset({kinds.INGRESS})) == ({"Ingress"}, set())
    assert _routes({}, everything) == (set(), {"Ingress", "HTTPRoute"})


def test_exposure_condition_names_the_missing_api_and_the_fix() -> None:
    rd = make_rd(exposure=ROUTE)
    type_, status, reason, message = exposure_condition(rd, frozenset({kinds.INGRESS}))
    assert (type_, status, reason) == (cond.EXPOSURE_CONFIGURED, "False", "APINotServed")
    assert "gateway.networking.k8s.io/v1 HTTPRoute" in message
    assert "Gateway API CRDs" in message


def test_exposure_condition_warns_that_untrusted_proxies_share_one_rate_limit() -> None:
    served = frozenset(kinds.OPTIONAL_APIS)
    _, status, _, message = exposure_condition(make_rd(exposure=INGRESS), served)
    assert status == "True"
    assert "http://rag.example.com" in message
    assert "trustedProxies is empty" in message
    trusted = make_rd(exposure={**INGRESS, "trustedProxies": ["10.0.0.0/8"]})
    assert "trustedProxies" not in exposure_condition(trusted, served)[3]


def test_no_exposure_is_in_cluster_only() -> None:
    assert exposure_condition(make_rd(), frozenset())[1:3] == ("False", "InClusterOnly")


@pytest.mark.parametrize(
    ("sample", "route"),
    [("ragdeployment-ingress.yaml", "Ingress"), ("ragdeployment-httproute.yaml", "HTTPRoute")],
)
def test_each_exposure_sample_is_valid_and_builds_its_route(sample: str, route: str) -> None:
    body = yaml.safe_load((SAMPLES / sample).read_text())
    rd = RagDeployment.from_body({**body, "metadata": {**body["metadata"], "namespace": "t"}})
    children = plan(
        rd, secret_values=VALUES, webhooks=[], hmac_keys={}, served=frozenset(kinds.OPTIONAL_APIS)
    )
    applied = {o["kind"] for o in children.apply}
    assert route in applied
    assert rd.spec.redis.managed
    assert external_url(rd) == "https://rag.example.com"


def test_only_the_crds_of_optional_child_kinds_trigger_a_reconcile_of_all() -> None:
    def crd(name: str) -> dict[str, Any]:
        return {"metadata": {"name": name}}

    assert is_optional_api(crd("httproutes.gateway.networking.k8s.io"))
    assert is_optional_api(crd("servicemonitors.monitoring.coreos.com"))
    assert not is_optional_api(crd("gateways.gateway.networking.k8s.io"))
    assert not is_optional_api(crd("ragdeployments.ragkube.dev"))


def test_only_a_change_in_whether_an_optional_api_is_served_reconciles_everything() -> None:
    name = "httproutes.gateway.networking.k8s.io"
    established = {
        "metadata": {"name": name},
        "status": {"conditions": [{"type": "Established", "status": "True"}]},
    }
    pending = {"metadata": {"name": name}, "status": {"conditions": []}}
    seen: dict[str, bool] = {}

    steps = [
        served_changed(seen, "ADDED", pending),  # first sight
        served_changed(seen, "MODIFIED", pending),  # still not served
        served_changed(seen, "MODIFIED", established),  # now served
        served_changed(seen, "MODIFIED", established),  # a status or managedFields update
        served_changed(seen, None, established),  # the re-list after a watch restart
        served_changed(seen, "DELETED", established),  # gone
    ]

    assert steps == [True, False, True, False, False, True]
