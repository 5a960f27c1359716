"""Webhooks: validate, render into the RagDeployment's `<rd>-webhooks` Secret, report."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import kopf
import pydantic

from ragkube_operator import conditions as cond
from ragkube_operator import ownership, secret_keys
from ragkube_operator.handlers.rag_deployment import (
    as_body,
    rd_ref,
    readable,
    secret_of,
    webhooks_of,
)
from ragkube_operator.handlers.status import update_status
from ragkube_operator.kubeapi import ObjectRef, ref_of
from ragkube_operator.models import API_VERSION, RagDeployment, Webhook
from ragkube_operator.operator_state import OperatorState
from ragkube_operator.webhook_secret import webhook_secret

KIND = "Webhook"


async def render(state: OperatorState, namespace: str, rd_name: str) -> tuple[str, str] | None:
    """Re-render `<rd>-webhooks` from the current Webhooks.

    Returns None when rendered (or left to the RagDeployment, whose spec is invalid), else
    the reason and message of why it could not be.
    """
    async with state.lock(namespace, rd_name):
        body = await state.api.get(rd_ref(namespace, rd_name))
        if body is None or body["metadata"].get("deletionTimestamp"):
            return (
                cond.REASON_RAG_DEPLOYMENT_NOT_FOUND,
                f"RagDeployment {namespace}/{rd_name} does not exist.",
            )
        try:
            rd = RagDeployment.from_body(body)
        except pydantic.ValidationError:
            return None  # the RagDeployment reports its own problem
        hooks, keys = await webhooks_of(state, namespace, rd_name)
        secret = webhook_secret(rd, hooks, keys)
        existing = await state.api.get(ref_of(secret))
        conflicts = ownership.conflicts([secret], {ref_of(secret): existing}, rd_name)
        if conflicts:
            return cond.REASON_OWNERSHIP_CONFLICT, " ".join(conflicts)
        kopf.adopt(secret, owner=as_body(body))
        await state.api.apply(secret)
        return None


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
    secret = await secret_of(state, hook.namespace, ref)
    message = secret_keys.missing("spec.secretRef", hook.namespace, ref, secret)
    if message is not None:
        await _accepted(state, body, "False", cond.REASON_SECRET_NOT_FOUND, message)
        raise kopf.TemporaryError(message, delay=30)
    try:
        key = secret_keys.text_value(secret, ref.key)
    except secret_keys.SecretValueNotText:
        key = None
    if not key:
        message = (
            f"spec.secretRef names key {ref.key!r} of Secret {hook.namespace}/{ref.name}, "
            "whose value is empty or not UTF-8 text; a signing key must be non-empty text "
            "(for example `openssl rand -hex 32`)."
        )
        await _accepted(state, body, "False", cond.REASON_INVALID_SECRET, message)
        # The Secret has no watch here: look again later, as for a missing one.
        raise kopf.TemporaryError(message, delay=30)
    rd_name = hook.spec.rag_deployment_ref.name
    problem = await render(state, hook.namespace, rd_name)
    if problem is not None:
        reason, message = problem
        await _accepted(state, body, "False", reason, message)
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
