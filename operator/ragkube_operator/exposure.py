"""Where the API is reached from outside the cluster, and the ExposureConfigured condition."""

from __future__ import annotations

from collections.abc import Collection

from ragkube_operator import conditions as cond
from ragkube_operator import kinds, labels
from ragkube_operator.models import RagDeployment


def external_url(rd: RagDeployment) -> str | None:
    """The URL applications outside the cluster use, when a host name is known.

    An Ingress with TLS is https, one without is http; an HTTPRoute's scheme is the
    Gateway listener's, which the route does not know, so https is assumed (a Gateway that
    serves plain http to the internet is the exception worth a surprise).
    """
    exposure = rd.spec.exposure
    if exposure.ingress is not None and exposure.ingress.host is not None:
        scheme = "https" if exposure.ingress.tls is not None else "http"
        host, path = exposure.ingress.host, exposure.ingress.path
    elif exposure.http_route is not None and exposure.http_route.hostnames:
        scheme, host, path = "https", exposure.http_route.hostnames[0], exposure.http_route.path
    else:
        return None
    if host.startswith("*."):
        return None  # a wildcard names many hosts, none of them the URL
    return f"{scheme}://{host}{path.rstrip('/')}"


def exposure_kind(rd: RagDeployment) -> kinds.Kind | None:
    """The kind of route the spec asks for, or None for in-cluster only."""
    if rd.spec.exposure.ingress is not None:
        return kinds.INGRESS
    if rd.spec.exposure.http_route is not None:
        return kinds.HTTP_ROUTE
    return None


def _proxies_note(rd: RagDeployment) -> str:
    if rd.spec.exposure.trusted_proxies:
        return ""
    return (
        " spec.exposure.trustedProxies is empty, so the API ignores X-Forwarded-For and "
        "counts every client behind the proxy as one for rate limits; list the proxy's "
        "addresses there."
    )


def exposure_condition(rd: RagDeployment, served: Collection[kinds.Kind]) -> cond.Condition:
    """ExposureConfigured: whether the requested Ingress or HTTPRoute could be created."""
    kind = exposure_kind(rd)
    if kind is None:
        return (
            cond.EXPOSURE_CONFIGURED,
            "False",
            cond.REASON_EXPOSURE_DISABLED,
            "spec.exposure sets neither ingress nor httpRoute; the API is reachable only "
            "inside the cluster (status.endpoint).",
        )
    if kind not in served:
        if kind == kinds.HTTP_ROUTE:
            hint = (
                "install the Gateway API CRDs (sigs.k8s.io/gateway-api, standard channel) "
                "or use spec.exposure.ingress"
            )
        else:
            hint = "use spec.exposure.httpRoute"
        return (
            cond.EXPOSURE_CONFIGURED,
            "False",
            cond.REASON_EXPOSURE_API_MISSING,
            f"The cluster does not serve {kind.api_version} {kind.kind}; {hint}.",
        )
    url = external_url(rd)
    where = f" at {url}" if url else " (no host name set: the URL is the controller's address)"
    return (
        cond.EXPOSURE_CONFIGURED,
        "True",
        cond.REASON_EXPOSURE_CONFIGURED,
        f"{kind.kind} {labels.api_name(rd.name)} publishes the API{where}.{_proxies_note(rd)}",
    )
