"""spec.exposure on a real API server: CEL refusals, Ingress and HTTPRoute, the Gateway API
arriving after the RagDeployment, drift repair, status.url."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from .operator_e2e import Kube, condition, eventually, rag_deployment

pytestmark = pytest.mark.e2e
HTTP_ROUTE_CRD = "httproutes.gateway.networking.k8s.io"
SAMPLES = Path(__file__).resolve().parents[3] / "samples"
ROUTE = {"parentRefs": [{"name": "public", "namespace": "infra"}], "hostnames": ["rag.example.com"]}


def _refusal(kube: Kube, namespace: str, **spec: Any) -> str:
    manifest = yaml.safe_dump(rag_deployment("refused", **spec))
    return kube.kubectl("apply", "-n", namespace, "-f", "-", stdin=manifest, check=False)


def test_invalid_exposure_specs_are_refused_with_readable_messages(
    kube: Kube, namespace: str
) -> None:
    both = _refusal(kube, namespace, exposure={"ingress": {}, "httpRoute": ROUTE})
    assert "exposure.ingress and exposure.httpRoute are alternatives" in both
    no_host = _refusal(kube, namespace, exposure={"ingress": {"tls": {"secretName": "cert"}}})
    assert "exposure.ingress.tls needs exposure.ingress.host" in no_host
    proxy = _refusal(kube, namespace, exposure={"trustedProxies": ["10.0.0.300/8"]})
    assert "each trusted proxy is an IP address or a CIDR block" in proxy
    redis = _refusal(
        kube, namespace, redis={"managed": True, "urlSecretRef": {"name": "r", "key": "url"}}
    )
    assert "redis.managed and redis.urlSecretRef are alternatives" in redis
    assert kube.get("ragdeployment", "refused", namespace) is None


def _owned(kube: Kube, kind: str, name: str, namespace: str) -> dict[str, Any] | None:
    obj = kube.get(kind, name, namespace)
    rd = kube.get("ragdeployment", "web", namespace)
    if obj is None or rd is None:
        return None
    refs = obj["metadata"].get("ownerReferences") or []
    return (
        obj
        if any(r["uid"] == rd["metadata"]["uid"] and r.get("controller") for r in refs)
        else None
    )


def _exposure(kube: Kube, namespace: str, reason: str) -> dict[str, Any] | None:
    rd = kube.get("ragdeployment", "web", namespace)
    found = condition(rd, "ExposureConfigured")
    return rd if found and found["reason"] == reason else None


def test_ingress_appears_owned_with_streaming_annotations_url_and_drift_repair(
    kube: Kube, namespace: str
) -> None:
    tls = {"certManager": {"name": "letsencrypt"}}
    kube.apply(
        namespace,
        rag_deployment(
            "web",
            api={"replicas": 1},
            exposure={"ingress": {"host": "rag.example.com", "tls": tls}},
        ),
    )
    ingress = eventually(
        lambda: _owned(kube, "ingress", "web-api", namespace), timeout=60, what="the Ingress"
    )
    annotations = ingress["metadata"]["annotations"]
    assert annotations["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    assert annotations["cert-manager.io/cluster-issuer"] == "letsencrypt"
    assert ingress["spec"]["tls"] == [{"hosts": ["rag.example.com"], "secretName": "web-api-tls"}]
    rd = eventually(lambda: _exposure(kube, namespace, "Configured"), timeout=60, what="exposed")
    assert rd["status"]["url"] == "https://rag.example.com"
    assert "https://rag.example.com" in kube.kubectl("get", "rd", "web", "-n", namespace)

    kube.kubectl(
        "patch", "ingress", "web-api", "-n", namespace, "--type=json",
        "-p", '[{"op": "replace", "path": "/spec/rules/0/host", "value": "evil.example.com"}]',
    )  # fmt: skip
    eventually(
        lambda: (
            (i := kube.get("ingress", "web-api", namespace))
            and i["spec"]["rules"][0]["host"] == "rag.example.com"
        ),
        timeout=30,
        what="the hand-edited host restored",
    )
    kube.kubectl("delete", "ingress", "web-api", "-n", namespace)
    eventually(
        lambda: _owned(kube, "ingress", "web-api", namespace), timeout=30, what="Ingress restored"
    )


def test_http_route_waits_for_the_gateway_api_then_replaces_the_ingress(
    kube: Kube, namespace: str
) -> None:
    import localcluster  # hack/ is on pythonpath

    assert kube.get("crd", HTTP_ROUTE_CRD, None) is None, "this test installs the Gateway API"
    kube.apply(namespace, rag_deployment("web", api={"replicas": 1}, exposure={"ingress": {}}))
    eventually(lambda: _owned(kube, "ingress", "web-api", namespace), timeout=60, what="Ingress")
    kube.apply(namespace, rag_deployment("web", api={"replicas": 1}, exposure={"httpRoute": ROUTE}))
    rd = eventually(
        lambda: _exposure(kube, namespace, "APINotServed"), timeout=60, what="APINotServed"
    )
    exposed = condition(rd, "ExposureConfigured")
    assert exposed is not None
    assert "does not serve gateway.networking.k8s.io/v1 HTTPRoute" in exposed["message"]
    assert condition(rd, "Reconciled")["status"] == "True"  # type: ignore[index]
    assert "url" not in rd["status"]
    eventually(
        lambda: kube.get("ingress", "web-api", namespace) is None,
        timeout=30,
        what="the Ingress removed",
    )

    localcluster.install_gateway_api(kube.kubeconfig)
    route = eventually(
        lambda: _owned(kube, HTTP_ROUTE_CRD, "web-api", namespace),
        timeout=90,
        what="the HTTPRoute once the Gateway API is served (no change to the RagDeployment)",
    )
    assert route["spec"]["hostnames"] == ["rag.example.com"]
    assert route["spec"]["rules"][0]["backendRefs"][0]["name"] == "web-api"
    assert route["spec"]["rules"][0]["timeouts"] == {"request": "300s"}
    rd = eventually(lambda: _exposure(kube, namespace, "Configured"), timeout=60, what="exposed")
    assert rd["status"]["url"] == "https://rag.example.com"

    kube.kubectl("delete", HTTP_ROUTE_CRD, "web-api", "-n", namespace)
    eventually(
        lambda: _owned(kube, HTTP_ROUTE_CRD, "web-api", namespace),
        timeout=30,
        what="the deleted HTTPRoute restored",
    )


@pytest.mark.parametrize(
    ("sample", "name", "route"),
    [
        ("ragdeployment-ingress.yaml", "docs-public", "ingress"),
        ("ragdeployment-httproute.yaml", "docs-gateway", HTTP_ROUTE_CRD),
    ],
)
def test_each_exposure_sample_is_accepted_and_gets_its_route_and_redis(
    kube: Kube, namespace: str, sample: str, name: str, route: str
) -> None:
    import localcluster  # hack/ is on pythonpath

    localcluster.install_gateway_api(kube.kubeconfig)
    kube.apply(namespace, (SAMPLES / sample).read_text())
    eventually(lambda: kube.get(route, f"{name}-api", namespace), timeout=60, what=route)
    eventually(
        lambda: kube.get("statefulset", f"{name}-redis", namespace), timeout=60, what="Redis"
    )
    configmap = kube.get("configmap", f"{name}-api-config", namespace)
    assert configmap is not None
    assert configmap["data"]["TRUSTED_PROXIES"] == "10.244.0.0/16"
