"""The full desired state of one RagDeployment: which children exist, which must not.

A pure function of the spec and of the few inputs read from the cluster (generated secret
values, Webhooks with their keys, whether the Prometheus Operator CRDs are served).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ragkube_operator import labels
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import api_deployment, config_checksum
from ragkube_operator.api_secret import api_secret
from ragkube_operator.api_service import api_service
from ragkube_operator.autoscaler import autoscaler
from ragkube_operator.chroma_service import chroma_service
from ragkube_operator.chroma_statefulset import chroma_statefulset, keep_live_claim
from ragkube_operator.disruption_budget import disruption_budget
from ragkube_operator.kubeapi import ObjectRef, ref_of
from ragkube_operator.models import RagDeployment, Webhook
from ragkube_operator.network_policy import network_policy
from ragkube_operator.prometheus_rule import prometheus_rule
from ragkube_operator.service_monitor import MONITORING_API_VERSION, service_monitor
from ragkube_operator.webhook_secret import webhook_secret


@dataclass(frozen=True)
class Plan:
    """Objects to apply and objects (of features turned off) to delete."""

    apply: list[dict[str, Any]] = field(default_factory=list)
    delete: list[ObjectRef] = field(default_factory=list)


def plan(
    rd: RagDeployment,
    *,
    secret_values: Mapping[str, str],
    webhooks: Iterable[Webhook],
    hmac_keys: Mapping[str, str],
    monitoring_served: bool,
) -> Plan:
    """Every child of `rd` to apply, and every optional child to delete.

    ServiceMonitor and PrometheusRule are neither applied nor deleted when the cluster does
    not serve their kinds.
    """
    spec = rd.spec
    configmap = api_configmap(rd)
    secret = api_secret(rd, secret_values)
    result = Plan()
    result.apply.extend(
        [
            configmap,
            secret,
            webhook_secret(rd, webhooks, hmac_keys),
            api_deployment(rd, checksum=config_checksum(configmap, secret)),
            api_service(rd),
            chroma_service(rd),
            chroma_statefulset(rd),
        ]
    )

    def optional(enabled: bool, build: Any, api_version: str, kind: str, name: str) -> None:
        if enabled:
            result.apply.append(build(rd))
        else:
            result.delete.append(ObjectRef(api_version, kind, rd.namespace, name))

    api_name = labels.api_name(rd.name)
    optional(
        spec.api.autoscaling.enabled,
        autoscaler,
        "autoscaling/v2",
        "HorizontalPodAutoscaler",
        api_name,
    )
    optional(
        spec.disruption_budget.enabled,
        disruption_budget,
        "policy/v1",
        "PodDisruptionBudget",
        api_name,
    )
    optional(
        spec.network_policy.enabled,
        network_policy,
        "networking.k8s.io/v1",
        "NetworkPolicy",
        labels.chroma_name(rd.name),
    )
    if monitoring_served:
        optional(
            spec.monitoring.service_monitor.enabled,
            service_monitor,
            MONITORING_API_VERSION,
            "ServiceMonitor",
            api_name,
        )
        optional(
            spec.monitoring.prometheus_rule.enabled,
            prometheus_rule,
            MONITORING_API_VERSION,
            "PrometheusRule",
            labels.monitoring_name(rd.name),
        )
    return result


def within_live_limits(
    rd: RagDeployment, desired: Plan, live: Mapping[ObjectRef, Mapping[str, Any] | None]
) -> tuple[Plan, list[str]]:
    """`desired`, held back only where Kubernetes forbids changing the live children.

    Returns the plan to apply and a sentence for each change held back. Applying a
    forbidden change would fail the whole apply and leave every other change of the same
    spec edit unapplied; holding back just that field keeps the rest converging.
    """
    problems = []
    apply = []
    for obj in desired.apply:
        if obj["kind"] == "StatefulSet":
            obj, problem = keep_live_claim(rd, obj, live.get(ref_of(obj)))
            if problem is not None:
                problems.append(problem)
        apply.append(obj)
    return Plan(apply=apply, delete=list(desired.delete)), problems
