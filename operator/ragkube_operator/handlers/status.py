"""Writes status on a freshly read object, only when it changed, retrying on conflicts."""

from __future__ import annotations

import copy
import datetime
from collections.abc import Callable
from typing import Any

import kopf

from ragkube_operator.kubeapi import KubeApi, ObjectRef

#: A change to a status: (status, generation, now) -> new status.
StatusChange = Callable[[dict[str, Any], int, str], dict[str, Any]]
_ATTEMPTS = 5


def now() -> str:
    """The current time as Kubernetes writes it."""
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def update_status(api: KubeApi, ref: ObjectRef, change: StatusChange) -> bool:
    """Apply `change` to the object's current status; write only if it differs.

    Returns False when the object no longer exists. The write carries the resourceVersion
    that was read, so a concurrent writer makes it fail and the change is recomputed.
    """
    for _ in range(_ATTEMPTS):
        body = await api.get(ref)
        if body is None:
            return False
        current = body.get("status") or {}
        generation = int(body["metadata"].get("generation", 0))
        desired = change(copy.deepcopy(current), generation, now())
        if desired == current:
            return True
        written = await api.patch_status(
            ref, desired, resource_version=body["metadata"]["resourceVersion"]
        )
        if written is not None:
            return True
    raise kopf.TemporaryError(f"the status of {ref.kind} {ref.name} kept changing", delay=2)
