"""The one module that calls the Kubernetes API.

Objects are plain dicts. Writes are server-side apply under one field manager, so applying
the same desired state twice changes nothing and a hand-edit of a field the operator owns is
overwritten on the next apply. API errors are sorted here: what may pass (conflicts, rate
limits, server errors, lost connections) becomes `kopf.TemporaryError` and is retried with a
delay; what will not pass by waiting (forbidden, invalid) becomes `kopf.PermanentError`.

The official client is synchronous; calls run on a bounded thread pool so the event loop
never blocks.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import kopf
import kubernetes
import urllib3

from ragkube_operator import kinds

FIELD_MANAGER: Final = "ragkube-operator"
#: Plural resource names of every kind the operator reads or writes.
PLURALS: Final = {(kind.api_version, kind.kind): kind.plural for kind in kinds.ALL}
_RETRYABLE_STATUS: Final = frozenset({401, 409, 429, 500, 502, 503, 504})
#: A 500 that waiting cannot cure: server-side apply could not even build the patch from the
#: applied object (duplicate keys in a list keyed by name, a value of the wrong type).
_APPLY_BUILD_FAILURE: Final = "failed to create typed patch object"
_DISCOVERY_TTL_SECONDS: Final = 30.0
#: (connect, read) seconds of one API call. The calls made here are single objects read or
#: applied by name, answered in well under a second; the read bound is what a call on a
#: half-open pooled connection (after a network partition) waits before the pool is dropped
#: and kopf retries, so it sets how fast the operator recovers.
REQUEST_TIMEOUT: Final = (5, 20)
#: (connect, read) seconds of the connection check (`KubeApi.check_connections`): the API
#: server's version is a few bytes, answered at once by any live server.
CONNECTION_CHECK_TIMEOUT: Final = (2, 3)


@dataclass(frozen=True)
class ObjectRef:
    """Identity of one namespaced object."""

    api_version: str
    kind: str
    namespace: str
    name: str


def ref_of(obj: dict[str, Any]) -> ObjectRef:
    """The identity of an object dict."""
    meta = obj["metadata"]
    return ObjectRef(obj["apiVersion"], obj["kind"], meta["namespace"], meta["name"])


def _collection_path(api_version: str, kind: str, namespace: str) -> str:
    plural = PLURALS[(api_version, kind)]
    prefix = "/api/v1" if api_version == "v1" else f"/apis/{api_version}"
    return f"{prefix}/namespaces/{namespace}/{plural}"


def _object_path(ref: ObjectRef) -> str:
    return f"{_collection_path(ref.api_version, ref.kind, ref.namespace)}/{ref.name}"


def _reason(exc: kubernetes.client.ApiException) -> str:
    try:
        body = json.loads(exc.body or "{}")
    except (TypeError, ValueError):
        return f"{exc.status} {exc.reason}"
    return str(body.get("message") or f"{exc.status} {exc.reason}")


def _retry_after(exc: kubernetes.client.ApiException, default: float) -> float:
    headers = exc.headers or {}
    try:
        return float(headers.get("Retry-After", default))
    except ValueError:
        return default


def sorted_error(what: str, exc: Exception) -> kopf.TemporaryError | kopf.PermanentError:
    """The kopf error a failed API call stands for: temporary (retry) or permanent."""
    if isinstance(exc, kubernetes.client.ApiException):
        message = f"{what}: {_reason(exc)}"
        if exc.status == 500 and _APPLY_BUILD_FAILURE in message:
            return kopf.PermanentError(message)
        if exc.status in _RETRYABLE_STATUS or exc.status == 0:
            return kopf.TemporaryError(message, delay=_retry_after(exc, 5.0))
        return kopf.PermanentError(message)
    return kopf.TemporaryError(f"{what}: {exc}", delay=5.0)


class KubeApi:
    """Async access to the Kubernetes API with sorted errors; see the module docstring."""

    def __init__(self, client: kubernetes.client.ApiClient, *, workers: int = 16) -> None:
        self._client = client
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kubeapi")
        self._discovery: dict[str, tuple[float, bool]] = {}

    @classmethod
    def from_environment(cls, kubeconfig: Path | None = None) -> KubeApi:
        """Credentials from the pod's service account, else from the kubeconfig."""
        configuration = kubernetes.client.Configuration()
        if kubeconfig is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
            kubernetes.config.load_incluster_config(client_configuration=configuration)
        else:
            kubernetes.config.load_kube_config(
                config_file=str(kubeconfig) if kubeconfig else None,
                client_configuration=configuration,
            )
        configuration.connection_pool_maxsize = 32
        # No retry of a read timeout inside urllib3: after a network partition every pooled
        # connection may be half-open, and each retry would wait out another one. The call
        # fails instead, `_call` drops the pool, and kopf retries on a fresh connection.
        configuration.retries = urllib3.Retry(total=3, connect=3, read=0, redirect=0)
        return cls(kubernetes.client.ApiClient(configuration))

    def close(self) -> None:
        """Release the thread pool and connections."""
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._client.close()

    async def _call(
        self,
        what: str,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str = "application/json",
        missing_ok: bool = False,
        conflict_ok: bool = False,
        timeout: tuple[float, float] = REQUEST_TIMEOUT,
    ) -> Any:
        def call() -> Any:
            return self._client.call_api(
                path,
                method,
                query_params=query or [],
                header_params={"Accept": "application/json", "Content-Type": content_type},
                body=body,
                response_type="object",
                auth_settings=["BearerToken"],
                _return_http_data_only=True,
                _request_timeout=timeout,
            )

        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool, call)
        except kubernetes.client.ApiException as exc:
            if (missing_ok and exc.status == 404) or (conflict_ok and exc.status == 409):
                return None
            raise sorted_error(what, exc) from exc
        except (urllib3.exceptions.HTTPError, OSError) as exc:
            # The pooled connections may all be dead alike (half-open after a partition):
            # close them so that the retry connects afresh instead of timing out on each.
            self._client.rest_client.pool_manager.clear()
            raise sorted_error(what, exc) from exc

    async def check_connections(self) -> bool:
        """Whether the API server answers on this client's connections, within a short bound.

        After a network partition the pooled connections can be half-open: the first call
        on one would wait out the whole read bound before the pool is dropped, on the path
        of the first reconcile after the outage. Checking now and then (Kubernetes' own Go
        client pings its idle connections for the same reason) drops a dead pool early,
        because a failed check drops it like any failed call.
        """
        try:
            await self._call(
                "checking the API server", "GET", "/version", timeout=CONNECTION_CHECK_TIMEOUT
            )
        except kopf.TemporaryError:
            return False
        except kopf.PermanentError:
            return True  # refused, but it answered: the connection carries bytes
        return True

    async def apply(self, obj: dict[str, Any]) -> dict[str, Any]:
        """Server-side apply `obj` under the operator's field manager, taking ownership."""
        ref = ref_of(obj)
        result: dict[str, Any] = await self._call(
            f"applying {ref.kind} {ref.namespace}/{ref.name}",
            "PATCH",
            _object_path(ref),
            query=[("fieldManager", FIELD_MANAGER), ("force", "true")],
            body=obj,
            content_type="application/apply-patch+yaml",
        )
        return result

    async def get(self, ref: ObjectRef) -> dict[str, Any] | None:
        """The object, or None when it does not exist."""
        result: dict[str, Any] | None = await self._call(
            f"reading {ref.kind} {ref.namespace}/{ref.name}",
            "GET",
            _object_path(ref),
            missing_ok=True,
        )
        return result

    async def list(
        self, api_version: str, kind: str, namespace: str, *, label_selector: str = ""
    ) -> list[dict[str, Any]]:
        """Objects of one kind in a namespace, optionally filtered by labels."""
        query = [("labelSelector", label_selector)] if label_selector else []
        result = await self._call(
            f"listing {kind} in {namespace}",
            "GET",
            _collection_path(api_version, kind, namespace),
            query=query,
        )
        items: list[dict[str, Any]] = result.get("items", [])
        return items

    async def delete(self, ref: ObjectRef, *, uid: str | None = None) -> bool:
        """Delete the object (dependents in the background); False if it was already gone.

        With `uid`, only that very object is deleted: one re-created under the same name
        since it was read makes the call fail with a conflict (a temporary error).
        """
        body: dict[str, Any] = {"propagationPolicy": "Background"}
        if uid is not None:
            body["preconditions"] = {"uid": uid}
        result = await self._call(
            f"deleting {ref.kind} {ref.namespace}/{ref.name}",
            "DELETE",
            _object_path(ref),
            body=body,
            missing_ok=True,
        )
        return result is not None

    async def patch_status(
        self, ref: ObjectRef, status: dict[str, Any], *, resource_version: str
    ) -> dict[str, Any] | None:
        """Merge-patch the status subresource; None when the object changed meanwhile."""
        result: dict[str, Any] | None = await self._call(
            f"updating the status of {ref.kind} {ref.namespace}/{ref.name}",
            "PATCH",
            f"{_object_path(ref)}/status",
            body={"metadata": {"resourceVersion": resource_version}, "status": status},
            content_type="application/merge-patch+json",
            conflict_ok=True,
        )
        return result

    def forget_discovery(self) -> None:
        """Drop the cached discovery answers (a CRD came or went)."""
        self._discovery.clear()

    async def serves(self, api_version: str, plural: str) -> bool:
        """Whether the cluster serves a resource (e.g. a CRD's kind); cached for a while."""
        key = f"{api_version}/{plural}"
        cached = self._discovery.get(key)
        if cached is not None and time.monotonic() - cached[0] < _DISCOVERY_TTL_SECONDS:
            return cached[1]
        result = await self._call(
            f"discovering {api_version}", "GET", f"/apis/{api_version}", missing_ok=True
        )
        found = result is not None and any(
            resource.get("name") == plural for resource in result.get("resources", [])
        )
        self._discovery[key] = (time.monotonic(), found)
        return found
