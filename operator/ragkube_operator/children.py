"""The full desired state of one RagDeployment: which children exist, which must not.

A pure function of the spec and of the few inputs read from the cluster (generated secret
values, Webhooks with their keys, which optional APIs such as the Prometheus Operator's or
the Gateway API's the cluster serves).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ragkube_operator import kinds, labels
from ragkube_operator.api_configmap import api_configmap
from ragkube_operator.api_deployment import api_deployment, config_checksum
from ragkube_operator.api_secret import api_secret
from ragkube_operator.api_service import api_service
from ragkube_operator.autoscaler import autoscaler
from ragkube_operator.chroma_service import chroma_service
from ragkube_operator.chroma_statefulset import chroma_statefulset
from ragkube_operator.disruption_budget import disruption_budget
from ragkube_operator.http_route import http_route
from ragkube_operator.index_service import index_service
from ragkube_operator.index_statefulset import index_statefulset, token_checksum
from ragkube_operator.ingress import ingress
from ragkube_operator.kubeapi import ObjectRef, ref_of
from ragkube_operator.models import RagDeployment, Webhook
from ragkube_operator.network_policy import (
    index_network_policy,
    network_policy,
    redis_network_policy,
)
from ragkube_operator.prometheus_rule import prometheus_rule
from ragkube_operator.redis_config import redis_configmap
from ragkube_operator.redis_service import redis_service
from ragkube_operator.redis_statefulset import redis_statefulset
from ragkube_operator.service_monitor import service_monitor
from ragkube_operator.volume_claims import keep_live_claim
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
    served: Collection[kinds.Kind],
) -> Plan:
    """Every child of `rd` to apply, and every optional child to delete.

    `served` holds the kinds with an optional API (`kinds.OPTIONAL_APIS`) that the cluster
    serves; a child of such a kind not in it is neither applied nor deleted.
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
            index_service(rd),
            index_statefulset(rd, checksum=token_checksum(secret)),
        ]
    )

    def optional(
        enabled: bool, build: Callable[[], dict[str, Any]], kind: kinds.Kind, name: str
    ) -> None:
        if kind.optional_api and kind not in served:
            return
        if enabled:
            result.apply.append(build())
        else:
            result.delete.append(ObjectRef(kind.api_version, kind.kind, rd.namespace, name))

    api_name = labels.api_name(rd.name)
    redis_name = labels.redis_name(rd.name)
    managed_redis = spec.redis.managed
    redis_config = redis_configmap(rd)
    optional(spec.api.autoscaling.enabled, lambda: autoscaler(rd), kinds.AUTOSCALER, api_name)
    optional(
        spec.disruption_budget.enabled,
        lambda: disruption_budget(rd),
        kinds.DISRUPTION_BUDGET,
        api_name,
    )
    optional(
        spec.network_policy.enabled,
        lambda: network_policy(rd),
        kinds.NETWORK_POLICY,
        labels.chroma_name(rd.name),
    )
    optional(
        spec.network_policy.enabled,
        lambda: index_network_policy(rd),
        kinds.NETWORK_POLICY,
        labels.index_name(rd.name),
    )
    optional(
        managed_redis,
        lambda: redis_config,
        kinds.CONFIG_MAP,
        labels.redis_config_name(rd.name),
    )
    optional(
        managed_redis,
        lambda: redis_statefulset(rd, checksum=config_checksum(redis_config, secret)),
        kinds.STATEFUL_SET,
        redis_name,
    )
    optional(managed_redis, lambda: redis_service(rd), kinds.SERVICE, redis_name)
    optional(
        managed_redis and spec.network_policy.enabled,
        lambda: redis_network_policy(rd),
        kinds.NETWORK_POLICY,
        redis_name,
    )
    optional(spec.exposure.ingress is not None, lambda: ingress(rd), kinds.INGRESS, api_name)
    optional(
        spec.exposure.http_route is not None, lambda: http_route(rd), kinds.HTTP_ROUTE, api_name
    )
    optional(
        spec.monitoring.service_monitor.enabled,
        lambda: service_monitor(rd),
        kinds.SERVICE_MONITOR,
        api_name,
    )
    optional(
        spec.monitoring.prometheus_rule.enabled,
        lambda: prometheus_rule(rd),
        kinds.PROMETHEUS_RULE,
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
