"""Reconcile one RagDeployment: read inputs, build every child, adopt, apply, report."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Mapping
from typing import Any, cast

import kopf
import pydantic

from ragkube_contract import api_image, index_server
from ragkube_operator import conditions as cond
from ragkube_operator import kinds, labels, ownership, secret_keys
from ragkube_operator.api_secret import generated_values
from ragkube_operator.api_service import endpoint
from ragkube_operator.children import plan, within_live_limits
from ragkube_operator.embeddings import embedding_dimension
from ragkube_operator.exposure import exposure_condition, exposure_kind, external_url
from ragkube_operator.handlers.status import StatusChange, update_status
from ragkube_operator.kubeapi import ObjectRef, ref_of
from ragkube_operator.models import API_VERSION, RagDeployment, SecretKeyRef, Webhook
from ragkube_operator.operator_state import OperatorState
from ragkube_operator.shared_state import shared_state_condition
from ragkube_operator.status import transitions, with_redis, with_workloads

KIND = "RagDeployment"
_WORKLOAD_KINDS = frozenset({"Deployment", "StatefulSet"})
#: Children whose status controllers keep writing: a hand-edit shows in `generation`, while
#: `resourceVersion` also moves on every status update.
GENERATION_KINDS = _WORKLOAD_KINDS | {"PodDisruptionBudget"}


def as_body(body: Mapping[str, Any]) -> kopf.Body:
    """A kopf Body for an object, whether kopf passed it in or it was read from the API."""
    return body if isinstance(body, kopf.Body) else kopf.Body(cast(kopf.RawBody, dict(body)))


def rd_ref(namespace: str, name: str) -> ObjectRef:
    """The identity of a RagDeployment."""
    return ObjectRef(API_VERSION, KIND, namespace, name)


def readable(error: pydantic.ValidationError) -> str:
    """A validation error as one sentence per problem, with camelCase field paths."""
    problems = [
        f"spec.{'.'.join(str(part) for part in item['loc'])}: {item['msg']}"
        for item in error.errors()
    ]
    return "; ".join(problems)


#: Where each variable of `api_image.SECRET_ENV` comes from instead of `spec.api.env`.
_SECRET_ENV_SOURCES: Mapping[str, str] = {
    "JWT_SECRET_KEY": "set spec.auth.jwtSecretRef instead",
    "CHROMA_AUTH_TOKEN": "the operator generates it",
    "OPENAI_API_KEY": "set spec.llm.apiKeySecretRef instead",
    "REDIS_URL": "set spec.redis.managed or spec.redis.urlSecretRef instead",
    index_server.LEXICAL_INDEX_TOKEN_ENV: "the operator generates it",
}


def spec_problems(rd: RagDeployment) -> list[str]:
    """Problems the CRD schema cannot catch but that make the spec unusable."""
    problems = []
    if embedding_dimension(rd.spec.embeddings) is None:
        problems.append(
            f"spec.embeddings.model {rd.spec.embeddings.model!r} is not a model the operator "
            "knows the vector dimension of; set spec.embeddings.dimension"
        )
    # The operator sets these from Secrets; a second entry of the same name in the
    # container's env would make every apply of the Deployment fail.
    for env in rd.spec.api.env:
        if env.name in api_image.SECRET_ENV:
            source = _SECRET_ENV_SOURCES.get(env.name, "the operator sets it from a Secret")
            problems.append(
                f"spec.api.env sets {env.name}, which the API reads from a Secret "
                f"({source}); remove it from spec.api.env"
            )
    return problems


def secret_refs(rd: RagDeployment) -> list[tuple[str, SecretKeyRef]]:
    """User-supplied Secret references of a spec, with the field each came from."""
    spec = rd.spec
    candidates = [
        ("spec.auth.jwtSecretRef", spec.auth.jwt_secret_ref),
        ("spec.auth.usersSecretRef", spec.auth.users_secret_ref),
        ("spec.llm.apiKeySecretRef", spec.llm.api_key_secret_ref),
        ("spec.redis.urlSecretRef", spec.redis.url_secret_ref),
    ]
    return [(path, ref) for path, ref in candidates if ref is not None]


async def secret_of(
    state: OperatorState, namespace: str, ref: SecretKeyRef
) -> dict[str, Any] | None:
    """The Secret a reference names, or None when it does not exist."""
    return await state.api.get(ObjectRef("v1", "Secret", namespace, ref.name))


async def read_all(
    state: OperatorState, refs: Iterable[ObjectRef]
) -> dict[ObjectRef, dict[str, Any] | None]:
    """Each object as it is in the cluster now (None where it does not exist)."""
    unique = list(dict.fromkeys(refs))
    found = await asyncio.gather(*(state.api.get(ref) for ref in unique))
    return dict(zip(unique, found, strict=True))


async def webhooks_of(
    state: OperatorState, namespace: str, rd_name: str
) -> tuple[list[Webhook], dict[str, str]]:
    """The valid, not-deleting Webhooks of a RagDeployment and their signing keys."""
    hooks = []
    for body in await state.api.list(API_VERSION, "Webhook", namespace):
        if body["metadata"].get("deletionTimestamp"):
            continue
        try:
            hook = Webhook.from_body(body)
        except pydantic.ValidationError:
            continue
        if hook.spec.rag_deployment_ref.name == rd_name:
            hooks.append(hook)
    secrets = await asyncio.gather(
        *(secret_of(state, namespace, hook.spec.secret_ref) for hook in hooks)
    )
    keys = {}
    for hook, secret in zip(hooks, secrets, strict=True):
        try:
            value = secret_keys.text_value(secret, hook.spec.secret_ref.key)
        except secret_keys.SecretValueNotText:
            continue  # the Webhook reports it as its own problem; it must not stop others
        if value:
            keys[hook.name] = value
    return hooks, keys


def _workload(
    state: OperatorState, kind: str, namespace: str, name: str
) -> Mapping[str, Any] | None:
    return state.workloads.get((kind, namespace, name))


def _with_observed(
    state: OperatorState,
    namespace: str,
    rd_name: str,
    status: dict[str, Any],
    generation: int,
    now: str,
) -> dict[str, Any]:
    """`status` with what the last seen workloads say (replicas, readiness, Redis)."""
    conditions = list(status.get("conditions") or [])
    shared = cond.find(conditions, cond.SHARED_STATE)
    if shared is not None:
        redis = _workload(state, "StatefulSet", namespace, labels.redis_name(rd_name))
        current = (cond.SHARED_STATE, shared["status"], shared["reason"], shared["message"])
        conditions = cond.set_condition(
            conditions, *with_redis(current, redis), generation=generation, now=now
        )
    return with_workloads(
        {**status, "conditions": conditions},
        deployment=_workload(state, "Deployment", namespace, labels.api_name(rd_name)),
        statefulset=_workload(state, "StatefulSet", namespace, labels.chroma_name(rd_name)),
        index=_workload(state, "StatefulSet", namespace, labels.index_name(rd_name)),
        generation=generation,
        now=now,
    )


async def _update_and_announce(
    state: OperatorState, namespace: str, name: str, change: StatusChange
) -> None:
    """Write the status `change` makes, then tell each announced condition's flip as an
    Event (Normal when it became True, Warning when it became False)."""
    flips: list[cond.Condition] = []

    def announced(status: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
        before = list(status.get("conditions") or [])
        result = change(status, generation, now)
        flips[:] = transitions(before, result.get("conditions") or [])
        return result

    await update_status(state.api, rd_ref(namespace, name), announced)
    if not flips:
        return
    # Read back for the uid the Event's involvedObject needs; flips are rare.
    body = await state.api.get(rd_ref(namespace, name))
    if body is None:
        return
    for type_, value, _, message in flips:
        if value == "True":
            # kopf.event, not kopf.info: posting.level is WARNING to keep kopf's own
            # progress messages out of the Events, and this recovery is meant to be seen.
            kopf.event(as_body(body), type="Normal", reason=type_, message=message)
        else:
            _warn(state, body, type_.replace("Ready", "NotReady"), message)


async def _report(
    state: OperatorState,
    body: Mapping[str, Any],
    changes: list[cond.Condition],
    extra: Mapping[str, Any] | None = None,
) -> None:
    meta = body["metadata"]

    def change(status: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
        conditions = list(status.get("conditions") or [])
        for type_, value, reason, message in changes:
            conditions = cond.set_condition(
                conditions, type_, value, reason, message, generation=generation, now=now
            )
        status = {**status, "conditions": conditions}
        for key, value in (extra or {}).items():
            # A merge patch removes a field only when it says null; say it once.
            if value is not None or key in status:
                status[key] = value
        return _with_observed(state, meta["namespace"], meta["name"], status, generation, now)

    await _update_and_announce(state, meta["namespace"], meta["name"], change)


def _warn(state: OperatorState, body: Mapping[str, Any], reason: str, message: str) -> None:
    kopf.warn(as_body(body), reason=reason, message=message)
    state.metrics.errors.labels(KIND, reason).inc()


async def _fail(state: OperatorState, body: Mapping[str, Any], reason: str, message: str) -> None:
    _warn(state, body, reason, message)
    await _report(state, body, [(cond.RECONCILED, "False", reason, message)])


def _monitoring_condition(rd: RagDeployment, served: bool) -> cond.Condition:
    monitoring = rd.spec.monitoring
    wanted = monitoring.service_monitor.enabled or monitoring.prometheus_rule.enabled
    if not wanted:
        return (
            cond.MONITORING_CONFIGURED,
            "False",
            cond.REASON_MONITORING_DISABLED,
            "Monitoring is not enabled in spec.monitoring.",
        )
    if not served:
        return (
            cond.MONITORING_CONFIGURED,
            "False",
            cond.REASON_MONITORING_CRDS_MISSING,
            "The cluster does not serve monitoring.coreos.com/v1 ServiceMonitor; install the "
            "Prometheus Operator CRDs to get a ServiceMonitor and PrometheusRule.",
        )
    return (
        cond.MONITORING_CONFIGURED,
        "True",
        cond.REASON_MONITORING_CONFIGURED,
        "ServiceMonitor and PrometheusRule are configured as requested.",
    )


async def served_kinds(state: OperatorState) -> frozenset[kinds.Kind]:
    """The kinds with an optional API that the cluster serves now."""
    found = await asyncio.gather(
        *(state.api.serves(kind.api_version, kind.plural) for kind in kinds.OPTIONAL_APIS)
    )
    return frozenset(kind for kind, ok in zip(kinds.OPTIONAL_APIS, found, strict=True) if ok)


def _announce_shared_state(
    state: OperatorState, body: Mapping[str, Any], shared: cond.Condition
) -> None:
    """A Warning when SharedState becomes PerPodState (the condition shows when it clears).

    Compared with the condition the object carries, so that it is told once per change and
    not on every reconcile.
    """
    before = cond.find((body.get("status") or {}).get("conditions") or [], cond.SHARED_STATE)
    was_per_pod = before is not None and before.get("reason") == cond.REASON_PER_POD_STATE
    if shared[2] == cond.REASON_PER_POD_STATE and not was_per_pod:
        _warn(state, body, cond.REASON_PER_POD_STATE, shared[3])


async def _reconcile(body: Mapping[str, Any], state: OperatorState) -> None:
    api = state.api
    try:
        rd = RagDeployment.from_body(body)
    except pydantic.ValidationError as error:
        await _fail(state, body, cond.REASON_INVALID_SPEC, readable(error))
        return
    problems = spec_problems(rd)
    if problems:
        await _fail(state, body, cond.REASON_INVALID_SPEC, "; ".join(problems))
        return
    for path, ref in secret_refs(rd):
        message = secret_keys.missing(
            path, rd.namespace, ref, await secret_of(state, rd.namespace, ref)
        )
        if message is not None:
            await _fail(state, body, cond.REASON_SECRET_NOT_FOUND, message)
            raise kopf.TemporaryError(message, delay=30)

    generated = await api.get(
        ObjectRef("v1", "Secret", rd.namespace, labels.api_secret_name(rd.name))
    )
    if generated is not None and not ownership.owned_by(generated, rd.name):
        generated = None  # someone else's Secret: not read as ours; reported as a conflict
    values = generated_values(rd, (generated or {}).get("data"))
    (hooks, keys), served = await asyncio.gather(
        webhooks_of(state, rd.namespace, rd.name), served_kinds(state)
    )
    desired = plan(rd, secret_values=values, webhooks=hooks, hmac_keys=keys, served=served)
    live = await read_all(state, [*(ref_of(obj) for obj in desired.apply), *desired.delete])
    conflicts = ownership.conflicts(desired.apply, live, rd.name)
    if conflicts:
        message = " ".join(conflicts)
        await _fail(state, body, cond.REASON_OWNERSHIP_CONFLICT, message)
        # No watch sees the other object go (it has none of our labels): look again later.
        raise kopf.TemporaryError(message, delay=30)
    desired, refused = within_live_limits(rd, desired, live)
    doomed = ownership.deletable(desired.delete, live, rd.name)
    kopf.adopt(desired.apply, owner=as_body(body))
    try:
        # Secrets first: the Deployment's config checksum covers the generated keys, and keys
        # that never reached the API server would be generated afresh by an operator
        # restarted in between, rolling the API pods for nothing.
        secrets = [obj for obj in desired.apply if obj["kind"] == "Secret"]
        others = [obj for obj in desired.apply if obj["kind"] != "Secret"]
        applied = [*await asyncio.gather(*(api.apply(obj) for obj in secrets))]
        applied += await asyncio.gather(*(api.apply(obj) for obj in others))
        await asyncio.gather(*(api.delete(ref, uid=uid) for ref, uid in doomed))
    except kopf.PermanentError as error:
        await _fail(state, body, cond.REASON_APPLY_FAILED, str(error))
        raise
    except kopf.TemporaryError as error:
        # kopf retries after the delay; until then the status says why nothing changes (a
        # broken admission webhook, a server error) instead of showing the last success.
        when = f" (retrying in {error.delay:g} s)" if error.delay else " (retrying)"
        await _fail(state, body, cond.REASON_APPLY_RETRYING, f"{error}{when}")
        raise
    for obj in applied:
        meta = obj["metadata"]
        key = (obj["kind"], meta["namespace"], meta["name"])
        by_generation = obj["kind"] in GENERATION_KINDS
        state.applied[key] = str(
            meta.get("generation") if by_generation else meta["resourceVersion"]
        )
        if obj["kind"] in _WORKLOAD_KINDS:
            state.workloads[key] = obj
    for gone in desired.delete:
        state.applied.pop((gone.kind, gone.namespace, gone.name), None)
        state.workloads.pop((gone.kind, gone.namespace, gone.name), None)

    reconciled: cond.Condition = (
        cond.RECONCILED,
        "True",
        cond.REASON_RECONCILED,
        f"All {len(desired.apply)} child objects are applied.",
    )
    if refused:
        message = " ".join(refused)
        _warn(state, body, cond.REASON_STORAGE_CHANGE_REJECTED, message)
        reconciled = (cond.RECONCILED, "False", cond.REASON_STORAGE_CHANGE_REJECTED, message)
    shared = shared_state_condition(rd)
    _announce_shared_state(state, body, shared)
    route = exposure_kind(rd)
    await _report(
        state,
        body,
        [
            reconciled,
            _monitoring_condition(rd, kinds.SERVICE_MONITOR in served),
            exposure_condition(rd, served),
            shared,
        ],
        extra={
            "endpoint": endpoint(rd),
            "url": external_url(rd) if route is not None and route in served else None,
            "embeddingModel": rd.spec.embeddings.model,
            "embeddingDimension": embedding_dimension(rd.spec.embeddings),
            "observedGeneration": rd.generation,
        },
    )


async def reconcile(body: Mapping[str, Any], state: OperatorState) -> None:
    """Bring every child of the RagDeployment `body` to its desired state, then report.

    Bad specs end in `Reconciled=False` with a reason and a Warning event, never in an
    exception that kopf would retry forever; missing Secrets are retried with a delay.
    """
    meta = body["metadata"]
    started = time.perf_counter()
    outcome = "error"
    try:
        async with state.lock(meta["namespace"], meta["name"]):
            await _reconcile(body, state)
        outcome = "success"
    finally:
        state.metrics.reconciles.labels(KIND, outcome).inc()
        state.metrics.duration.labels(KIND).observe(time.perf_counter() - started)


async def reconcile_by_name(state: OperatorState, namespace: str, name: str) -> None:
    """Reconcile a RagDeployment read fresh from the API (if it still exists)."""
    body = await state.api.get(rd_ref(namespace, name))
    if body is not None and not body["metadata"].get("deletionTimestamp"):
        await reconcile(body, state)


def owner_name(body: Mapping[str, Any]) -> str | None:
    """Name of the RagDeployment owning a child object, if any."""
    for owner in body.get("metadata", {}).get("ownerReferences") or []:
        if owner.get("kind") == KIND and owner.get("apiVersion") == API_VERSION:
            return str(owner["name"])
    return None


async def report_workloads(state: OperatorState, namespace: str, name: str) -> None:
    """Refresh APIAvailable/VectorStoreReady/LexicalIndexReady/Ready/SharedState from the
    last seen workloads."""

    def change(status: dict[str, Any], generation: int, now: str) -> dict[str, Any]:
        return _with_observed(state, namespace, name, status, generation, now)

    await _update_and_announce(state, namespace, name, change)
