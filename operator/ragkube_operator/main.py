"""kopf entry point: only decorators, each forwarding to a module in `handlers/`.

    kopf run --standalone -m ragkube_operator.main --liveness=http://0.0.0.0:8080/healthz

Environment: RAGKUBE_OPERATOR_PEERING (a peering name: several replicas, one active),
RAGKUBE_OPERATOR_METRICS_PORT (Prometheus metrics, default 9090, 0 turns them off),
RAGKUBE_OPERATOR_LOG_FORMAT (json, the default, or console), RAGKUBE_OPERATOR_RESYNC_SECONDS.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from typing import Any

import kopf

from ragkube_operator import connection_check, labels, structured_logging
from ragkube_operator.handlers import children, optional_apis, rag_deployment, webhook
from ragkube_operator.kubeapi import KubeApi
from ragkube_operator.metrics import OperatorMetrics
from ragkube_operator.models import GROUP, VERSION
from ragkube_operator.operator_state import OperatorState

RAG_DEPLOYMENTS = (GROUP, VERSION, "ragdeployments")
WEBHOOKS = (GROUP, VERSION, "webhooks")
MANAGED = {labels.MANAGED_BY_KEY: labels.MANAGED_BY}
#: The safety net's period: a full reconcile of every RagDeployment.
RESYNC_SECONDS = float(os.environ.get("RAGKUBE_OPERATOR_RESYNC_SECONDS", "600"))


def _state(memo: Any) -> OperatorState:
    state: OperatorState = memo["state"]
    return state


@kopf.on.startup()
async def configure(settings: kopf.OperatorSettings, memo: kopf.Memo, **_: Any) -> None:
    """Logging, persistence under ragkube.dev keys, peering, metrics, the API client."""
    structured_logging.configure(
        json_output=os.environ.get("RAGKUBE_OPERATOR_LOG_FORMAT", "json") == "json"
    )
    settings.persistence.finalizer = "ragkube.dev/finalizer"
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.posting.level = logging.WARNING
    settings.watching.server_timeout = 300
    peering = os.environ.get("RAGKUBE_OPERATOR_PEERING", "")
    if peering:
        settings.peering.name = peering
        settings.peering.mandatory = True
        settings.peering.clusterwide = True
        settings.peering.standalone = False
    metrics = OperatorMetrics()
    port = int(os.environ.get("RAGKUBE_OPERATOR_METRICS_PORT", "9090"))
    if port:
        metrics.serve(port)
    memo["state"] = OperatorState(api=KubeApi.from_environment(), metrics=metrics)
    memo["connection_check"] = asyncio.create_task(
        connection_check.check_forever(_state(memo).api), name="connection check"
    )


@kopf.on.cleanup()
async def close(memo: kopf.Memo, **_: Any) -> None:
    """Stop the connection check; release the API client's connections."""
    task: asyncio.Task[None] | None = memo.get("connection_check")
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    if "state" in memo:
        _state(memo).api.close()


@kopf.on.resume(*RAG_DEPLOYMENTS)
@kopf.on.create(*RAG_DEPLOYMENTS)
@kopf.on.update(*RAG_DEPLOYMENTS)
async def rag_deployment_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A RagDeployment appeared, changed, or was found at start-up."""
    await rag_deployment.reconcile(body, _state(memo))


@kopf.timer(*RAG_DEPLOYMENTS, interval=RESYNC_SECONDS, initial_delay=RESYNC_SECONDS)
async def rag_deployment_resync(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """Safety net: re-apply everything now and then, in case an event was missed."""
    await rag_deployment.reconcile(body, _state(memo))


@kopf.on.event("apps", "v1", "deployments", labels=MANAGED)
@kopf.on.event("apps", "v1", "statefulsets", labels=MANAGED)
@kopf.on.event("", "v1", "services", labels=MANAGED)
@kopf.on.event("", "v1", "configmaps", labels=MANAGED)
@kopf.on.event("", "v1", "secrets", labels=MANAGED)
@kopf.on.event("autoscaling", "v2", "horizontalpodautoscalers", labels=MANAGED)
@kopf.on.event("policy", "v1", "poddisruptionbudgets", labels=MANAGED)
@kopf.on.event("networking.k8s.io", "v1", "networkpolicies", labels=MANAGED)
@kopf.on.event("networking.k8s.io", "v1", "ingresses", labels=MANAGED)
# Watched only once the cluster serves the Gateway API: kopf follows the CRDs as they come.
@kopf.on.event("gateway.networking.k8s.io", "v1", "httproutes", labels=MANAGED)
async def child_changed(event: kopf.RawEvent, body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A child changed: update the owner's status, or restore the child if it drifted."""
    await children.on_child_event(event.get("type"), body, _state(memo))


@kopf.index(*RAG_DEPLOYMENTS)
def rag_deployment_names(namespace: str | None, name: str, **_: Any) -> dict[None, tuple[str, str]]:
    """Every RagDeployment, for handlers that concern all of them."""
    return {None: (namespace or "", name)}


@kopf.on.event(
    "apiextensions.k8s.io",
    "v1",
    "customresourcedefinitions",
    when=lambda body, **_: optional_apis.is_optional_api(body),
)
async def optional_api_changed(
    type: str | None, body: kopf.Body, memo: kopf.Memo, **kwargs: Any
) -> None:
    """A Gateway API or Prometheus Operator CRD came, went or became established."""
    # kopf passes each index by its function's name.
    names: kopf.Index[None, tuple[str, str]] = kwargs["rag_deployment_names"]
    await optional_apis.on_crd_event(_state(memo), type, body, names.get(None, []))


@kopf.on.resume(*WEBHOOKS)
@kopf.on.create(*WEBHOOKS)
@kopf.on.update(*WEBHOOKS)
async def webhook_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A Webhook appeared or changed: validate it and render its RagDeployment's file."""
    await webhook.reconcile(body, _state(memo))


@kopf.on.delete(*WEBHOOKS)
async def webhook_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """A Webhook is being deleted: drop it from the rendered file before it goes."""
    await webhook.remove(body, _state(memo))
