"""The Ingress publishing the API outside the cluster, with what streaming needs.

Server-sent events (`/query/stream`) arrive token by token; a proxy that buffers the
response or closes a quiet upstream early breaks them. Ingress has no portable field for
either, so the operator sets the annotations of the common controllers (`STREAMING_ANNOTATIONS`);
annotations a controller does not know are ignored by it.
"""

from __future__ import annotations

from typing import Any, Final

from ragkube_contract import api_image
from ragkube_operator import kinds, labels
from ragkube_operator.models import IngressExposure, RagDeployment

#: cert-manager's ingress-shim annotation for each issuer kind.
CERT_MANAGER_ANNOTATIONS: Final = {
    "ClusterIssuer": "cert-manager.io/cluster-issuer",
    "Issuer": "cert-manager.io/issuer",
}


def streaming_annotations(timeout_seconds: int) -> dict[str, str]:
    """Annotations that let SSE through ingress-nginx, F5 NGINX and HAProxy Ingress.

    Both NGINX controllers buffer responses and close an upstream that is silent for 60 s
    by default; HAProxy Ingress's server timeout is 50 s. Traefik streams without help.
    """
    seconds = str(timeout_seconds)
    return {
        "nginx.ingress.kubernetes.io/proxy-buffering": "off",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": seconds,
        "nginx.ingress.kubernetes.io/proxy-send-timeout": seconds,
        "nginx.org/proxy-buffering": "false",
        "nginx.org/proxy-read-timeout": f"{seconds}s",
        "nginx.org/proxy-send-timeout": f"{seconds}s",
        "haproxy.org/timeout-server": f"{seconds}s",
    }


def _annotations(rd: RagDeployment, ingress: IngressExposure) -> dict[str, str]:
    annotations = streaming_annotations(rd.spec.exposure.timeout_seconds)
    issuer = ingress.tls.cert_manager if ingress.tls is not None else None
    if issuer is not None:
        annotations[CERT_MANAGER_ANNOTATIONS[issuer.kind]] = issuer.name
    return {**annotations, **ingress.annotations}


def tls_secret_name(rd: RagDeployment, ingress: IngressExposure) -> str | None:
    """The Secret holding the Ingress certificate, or None without TLS."""
    if ingress.tls is None:
        return None
    return ingress.tls.secret_name or labels.tls_secret_name(rd.name)


def ingress(rd: RagDeployment) -> dict[str, Any]:
    """The Ingress `<rd>-api` routing `spec.exposure.ingress` to the API Service."""
    spec = rd.spec.exposure.ingress
    if spec is None:
        raise ValueError("ingress() needs spec.exposure.ingress")
    rule: dict[str, Any] = {
        "http": {
            "paths": [
                {
                    "path": spec.path,
                    "pathType": "Prefix",
                    "backend": {
                        "service": {
                            "name": labels.api_name(rd.name),
                            "port": {"number": api_image.API_PORT},
                        }
                    },
                }
            ]
        }
    }
    if spec.host is not None:
        rule = {"host": spec.host, **rule}
    body: dict[str, Any] = {"rules": [rule]}
    if spec.ingress_class_name is not None:
        body = {"ingressClassName": spec.ingress_class_name, **body}
    secret = tls_secret_name(rd, spec)
    if secret is not None and spec.host is not None:
        body["tls"] = [{"hosts": [spec.host], "secretName": secret}]
    return {
        "apiVersion": kinds.INGRESS.api_version,
        "kind": kinds.INGRESS.kind,
        "metadata": {
            "name": labels.api_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
            "annotations": _annotations(rd, spec),
        },
        "spec": body,
    }
