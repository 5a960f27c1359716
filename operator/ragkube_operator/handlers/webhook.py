"""Webhooks: validate, render into the RagDeployment's `<rd>-webhooks` Secret, report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
import pydantic

from ragkube_operator import conditions as cond
from ragkube_operator.handlers.rag_deployment import (
    as_body,
    rd_ref,
    readable,
    secret_value,
    webhooks_of,
)
from ragkube_operator.handlers.status import update_status
from ragkube_operator.kubeapi import ObjectRef
from ragkube_operator.models import API_VERSION, RagDeployment, Webhook
from ragkube_operator.operator_state import OperatorState
from ragkube_operator.webhook_secret import webhook_secret

KIND = "Webhook"


async def render(state: OperatorState, namespace: str, rd_name: str) -> bool:
    """Re-render `<rd>-webhooks` from the current Webhooks; False if the RD is missing."""
    async with state.lock(namespace, rd_name):
        body = await state.api.get(rd_ref(namespace, rd_name))
        if body is None or body["metadata"].get("deletionTimestamp"):
            return False
        try:
            rd = RagDeployment.from_body(body)
        except pydantic.ValidationError:
            return True  # the RagDeployment reports its own problem
        hooks, keys = await webhooks_of(state, namespace, rd_name)
        secret = webhook_secret(rd, hooks, keys)
        kopf.adopt(secret, owner=as_body(body))
        await state.api.apply(secret)
        return True


async def _accepted(
    state: OperatorState,
    body: Mapping[str, Any],
    value: cond.ConditionStatus,
    reason: str,
    message: str,
) -> None:
    meta = body["metadata"]

    def change(status: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
        conditions = cond.set_condition(
            status.get("conditions") or [],
            cond.ACCEPTED,
            value,
            reason,
            message,
            generation=generation,
            now=now,
        )
        return {**status, "conditions": conditions, "observedGeneration": generation}

    ref = ObjectRef(API_VERSION, KIND, meta["namespace"], meta["name"])
    await update_status(state.api, ref, change)
    if value != "True":
        kopf.warn(as_body(body), reason=reason, message=message)
        state.metrics.errors.labels(KIND, reason).inc()


async def reconcile(body: Mapping[str, Any], state: OperatorState) -> None:
    """Validate a Webhook, render its RagDeployment's webhooks, and set Accepted."""
    try:
        hook = Webhook.from_body(body)
    except pydantic.ValidationError as error:
        await _accepted(state, body, "False", cond.REASON_INVALID_SPEC, readable(error))
        return
    ref = hook.spec.secret_ref
    if await secret_value(state, hook.namespace, ref) is None:
        message = (
            f"spec.secretRef names key {ref.key!r} of Secret {hook.namespace}/{ref.name}, "
            "which does not exist; create it."
        )
        await _accepted(state, body, "False", cond.REASON_SECRET_NOT_FOUND, message)
        raise kopf.TemporaryError(message, delay=30)
    rd_name = hook.spec.rag_deployment_ref.name
    if not await render(state, hook.namespace, rd_name):
        message = f"RagDeployment {hook.namespace}/{rd_name} does not exist."
        await _accepted(state, body, "False", cond.REASON_RAG_DEPLOYMENT_NOT_FOUND, message)
        raise kopf.TemporaryError(message, delay=30)
    state.metrics.reconciles.labels(KIND, "success").inc()
    await _accepted(
        state,
        body,
        "True",
        cond.REASON_ACCEPTED,
        f"Rendered into Secret {rd_name}-webhooks for the API pods of {rd_name}.",
    )


async def remove(body: Mapping[str, Any], state: OperatorState) -> None:
    """Drop a deleted Webhook from its RagDeployment's rendered Secret."""
    rd_name = ((body.get("spec") or {}).get("ragDeploymentRef") or {}).get("name")
    if rd_name:
        await render(state, body["metadata"]["namespace"], rd_name)
