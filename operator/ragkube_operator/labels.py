"""Standard labels and child object names, shared by every builder.

Every child carries the `app.kubernetes.io/*` labels; selectors use only the stable subset
(name, instance, component), since a selector of a Deployment cannot change later.
"""

from __future__ import annotations

from typing import Final

PART_OF: Final = "ragkube"
MANAGED_BY: Final = "ragkube-operator"
#: Label keys of the managed-by selector the operator watches its children with.
MANAGED_BY_KEY: Final = "app.kubernetes.io/managed-by"
INSTANCE_KEY: Final = "app.kubernetes.io/instance"
COMPONENT_KEY: Final = "app.kubernetes.io/component"

API: Final = "api"
CHROMA: Final = "chroma"
REDIS: Final = "redis"
LEXICAL_INDEX: Final = "lexical-index"
WEBHOOKS: Final = "webhooks"
MONITORING: Final = "monitoring"


def selector_labels(instance: str, component: str) -> dict[str, str]:
    """Labels that select the pods of one component of one RagDeployment."""
    return {
        "app.kubernetes.io/name": "ragkube",
        INSTANCE_KEY: instance,
        COMPONENT_KEY: component,
    }


def standard_labels(instance: str, component: str) -> dict[str, str]:
    """All standard labels of a child object of one RagDeployment."""
    return {
        **selector_labels(instance, component),
        "app.kubernetes.io/part-of": PART_OF,
        MANAGED_BY_KEY: MANAGED_BY,
    }


def api_name(instance: str) -> str:
    """Name of the API Deployment, its Service, HPA, PDB, ServiceMonitor, Ingress, HTTPRoute."""
    return f"{instance}-api"


def api_config_name(instance: str) -> str:
    """Name of the ConfigMap holding the API settings."""
    return f"{instance}-api-config"


def api_secret_name(instance: str) -> str:
    """Name of the Secret holding generated keys (JWT signing key, Chroma token)."""
    return f"{instance}-secrets"


def chroma_name(instance: str) -> str:
    """Name of the Chroma StatefulSet, its headless Service and NetworkPolicy."""
    return f"{instance}-chroma"


def redis_name(instance: str) -> str:
    """Name of the managed Redis StatefulSet, its headless Service and NetworkPolicy."""
    return f"{instance}-redis"


def index_name(instance: str) -> str:
    """Name of the lexical index server's StatefulSet, its headless Service and NetworkPolicy."""
    return f"{instance}-index"


def redis_config_name(instance: str) -> str:
    """Name of the ConfigMap holding the managed Redis's redis.conf."""
    return f"{instance}-redis-config"


def tls_secret_name(instance: str) -> str:
    """Default name of the Secret cert-manager writes the Ingress certificate into."""
    return f"{instance}-api-tls"


def webhooks_secret_name(instance: str) -> str:
    """Name of the Secret holding the rendered webhooks.json."""
    return f"{instance}-webhooks"


def monitoring_name(instance: str) -> str:
    """Name of the PrometheusRule."""
    return f"{instance}-api"
