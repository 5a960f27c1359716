"""The SharedState condition: whether the API replicas share their state through Redis.

Without Redis each API pod keeps its own rate-limit window, answer cache and conversation
memory, and holds webhook deliveries in memory only. With one replica that is the whole
state; with more it is wrong in ways nobody sees, so the condition says so (and the handler
posts a Warning). Managed Redis stays opt-in: turning it on silently would add a stateful
pod, a volume claim and a password to every deployment that scaled past one replica.
"""

from __future__ import annotations

from typing import Final

from ragkube_operator import conditions as cond
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment

#: What each API pod keeps for itself without Redis, in the words of the condition.
PER_POD: Final = (
    "rate-limit windows (each pod admits the configured rate, so N pods admit N times it), "
    "the answer cache, conversation memory, and webhook deliveries (lost when a pod stops)"
)


def max_api_replicas(rd: RagDeployment) -> int:
    """The most API pods the spec may run: the HPA's maximum when autoscaling is on."""
    api = rd.spec.api
    return api.autoscaling.max_replicas if api.autoscaling.enabled else api.replicas


def shared_state_condition(rd: RagDeployment) -> cond.Condition:
    """SharedState as the spec alone decides it (`status.with_redis` adds Redis readiness)."""
    redis = rd.spec.redis
    if redis.managed:
        return (
            cond.SHARED_STATE,
            "True",
            cond.REASON_MANAGED_REDIS,
            f"The API pods share their state through the managed Redis "
            f"{labels.redis_name(rd.name)}.",
        )
    if redis.url_secret_ref is not None:
        return (
            cond.SHARED_STATE,
            "True",
            cond.REASON_EXTERNAL_REDIS,
            "The API pods share their state through the Redis named by spec.redis.urlSecretRef.",
        )
    most = max_api_replicas(rd)
    if most <= 1:
        return (
            cond.SHARED_STATE,
            "True",
            cond.REASON_SINGLE_REPLICA,
            "One API pod holds all state in memory; set spec.redis before scaling out.",
        )
    return (
        cond.SHARED_STATE,
        "False",
        cond.REASON_PER_POD_STATE,
        f"Up to {most} API pods run without Redis, so each keeps its own {PER_POD}; set "
        "spec.redis.managed: true (or spec.redis.urlSecretRef) to share them.",
    )
