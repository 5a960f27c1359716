"""The Gateway API HTTPRoute publishing the API through a Gateway someone else runs."""

from __future__ import annotations

from typing import Any

from ragkube_contract import api_image
from ragkube_operator import kinds, labels
from ragkube_operator.models import RagDeployment


def http_route(rd: RagDeployment) -> dict[str, Any]:
    """The HTTPRoute `<rd>-api` attaching to `spec.exposure.httpRoute.parentRefs`.

    A path prefix other than `/` is rewritten to `/` (the API's routes are at its root).
    The request timeout is `spec.exposure.timeoutSeconds`, so that a streamed answer is not
    cut by a gateway's default (Envoy's is 15 s).
    """
    exposure = rd.spec.exposure
    route = exposure.http_route
    if route is None:
        raise ValueError("http_route() needs spec.exposure.httpRoute")
    parents = []
    for parent in route.parent_refs:
        ref: dict[str, Any] = {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": parent.name,
        }
        if parent.namespace is not None:
            ref["namespace"] = parent.namespace
        if parent.section_name is not None:
            ref["sectionName"] = parent.section_name
        parents.append(ref)
    rule: dict[str, Any] = {
        "matches": [{"path": {"type": "PathPrefix", "value": route.path}}],
        "backendRefs": [
            {"name": labels.api_name(rd.name), "port": api_image.API_PORT, "weight": 1}
        ],
        "timeouts": {"request": f"{exposure.timeout_seconds}s"},
    }
    if route.path != "/":
        rule["filters"] = [
            {
                "type": "URLRewrite",
                "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}},
            }
        ]
    spec: dict[str, Any] = {"parentRefs": parents, "rules": [rule]}
    if route.hostnames:
        spec["hostnames"] = list(route.hostnames)
    return {
        "apiVersion": kinds.HTTP_ROUTE.api_version,
        "kind": kinds.HTTP_ROUTE.kind,
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "spec": spec,
    }
