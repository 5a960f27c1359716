"""Every kind the operator reads or writes, and which of them a cluster may not serve.

A kind whose API is optional (a CRD someone installs, such as the Prometheus Operator's or
the Gateway API's) carries `optional_api`: the operator asks the API server's discovery
whether it is served before applying or deleting such a child, and reports a condition
instead of failing when it is not. One flag on the kind, so that a new optional child needs
no new parameter anywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final


@dataclass(frozen=True)
class Kind:
    """One resource kind: its apiVersion, kind and plural name, and whether it is optional."""

    api_version: str
    kind: str
    plural: str
    #: Served only where someone installed its API; see the module docstring.
    optional_api: bool = False


CONFIG_MAP: Final = Kind("v1", "ConfigMap", "configmaps")
SECRET: Final = Kind("v1", "Secret", "secrets")
SERVICE: Final = Kind("v1", "Service", "services")
DEPLOYMENT: Final = Kind("apps/v1", "Deployment", "deployments")
STATEFUL_SET: Final = Kind("apps/v1", "StatefulSet", "statefulsets")
AUTOSCALER: Final = Kind("autoscaling/v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers")
DISRUPTION_BUDGET: Final = Kind("policy/v1", "PodDisruptionBudget", "poddisruptionbudgets")
NETWORK_POLICY: Final = Kind("networking.k8s.io/v1", "NetworkPolicy", "networkpolicies")
# Every supported Kubernetes serves Ingress, but a trimmed or future cluster need not; asking
# costs one cached discovery call and keeps "created only where served" true for every route.
INGRESS: Final = Kind("networking.k8s.io/v1", "Ingress", "ingresses", optional_api=True)
HTTP_ROUTE: Final = Kind(
    "gateway.networking.k8s.io/v1", "HTTPRoute", "httproutes", optional_api=True
)
SERVICE_MONITOR: Final = Kind(
    "monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitors", optional_api=True
)
PROMETHEUS_RULE: Final = Kind(
    "monitoring.coreos.com/v1", "PrometheusRule", "prometheusrules", optional_api=True
)
RAG_DEPLOYMENT: Final = Kind("ragkube.dev/v1alpha1", "RagDeployment", "ragdeployments")
WEBHOOK: Final = Kind("ragkube.dev/v1alpha1", "Webhook", "webhooks")

ALL: Final = (
    CONFIG_MAP,
    SECRET,
    SERVICE,
    DEPLOYMENT,
    STATEFUL_SET,
    AUTOSCALER,
    DISRUPTION_BUDGET,
    NETWORK_POLICY,
    INGRESS,
    HTTP_ROUTE,
    SERVICE_MONITOR,
    PROMETHEUS_RULE,
    RAG_DEPLOYMENT,
    WEBHOOK,
)
#: The kinds whose API the operator asks discovery about.
OPTIONAL_APIS: Final = tuple(kind for kind in ALL if kind.optional_api)
