"""Which existing objects a RagDeployment may write or delete: only those it owns.

Server-side apply with `force` would take any object of a child's name over, and the owner
reference it adds would let the garbage collector delete a user's object (and its data)
together with the RagDeployment. So an object that exists and is not owned by this
RagDeployment is never applied or deleted; the handler reports it instead.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ragkube_operator.kubeapi import ObjectRef, ref_of
from ragkube_operator.models import API_VERSION

#: Kind of the owner, as written in owner references.
OWNER_KIND = "RagDeployment"


def owned_by(obj: Mapping[str, Any], rd_name: str) -> bool:
    """Whether `obj` has an owner reference to the RagDeployment named `rd_name`.

    The uid is not compared on purpose: names are unique in a namespace, so a reference
    with another uid is to a deleted RagDeployment of the same name, whose children the
    garbage collector is about to take; a re-created RagDeployment adopts them back
    (server-side apply replaces the old reference, which the same field manager wrote).
    """
    return any(
        ref.get("kind") == OWNER_KIND
        and ref.get("apiVersion") == API_VERSION
        and ref.get("name") == rd_name
        for ref in (obj.get("metadata") or {}).get("ownerReferences") or []
    )


def _owner_words(obj: Mapping[str, Any]) -> str:
    owners = (obj.get("metadata") or {}).get("ownerReferences") or []
    if not owners:
        return "no owner"
    return "owner " + ", ".join(f"{o.get('kind')} {o.get('name')}" for o in owners)


def conflicts(
    desired: Iterable[Mapping[str, Any]],
    live: Mapping[ObjectRef, Mapping[str, Any] | None],
    rd_name: str,
) -> list[str]:
    """A sentence for each desired child whose name is taken by an object `rd_name` does
    not own; empty when every child is absent or owned.
    """
    problems = []
    for obj in desired:
        ref = ref_of(dict(obj))
        existing = live.get(ref)
        if existing is not None and not owned_by(existing, rd_name):
            problems.append(
                f"{ref.kind} {ref.namespace}/{ref.name} already exists with "
                f"{_owner_words(existing)}, and RagDeployment {rd_name} does not take over "
                "objects it did not create; delete or rename that object, or give the "
                "RagDeployment another name."
            )
    return problems


def deletable(
    refs: Iterable[ObjectRef], live: Mapping[ObjectRef, Mapping[str, Any] | None], rd_name: str
) -> list[tuple[ObjectRef, str]]:
    """The objects among `refs` that exist and are owned by `rd_name`, with their uids.

    Another object of the same name (a user's own HorizontalPodAutoscaler, say) is left
    alone: the RagDeployment never created it.
    """
    found = []
    for ref in refs:
        existing = live.get(ref)
        if existing is not None and owned_by(existing, rd_name):
            found.append((ref, str(existing["metadata"]["uid"])))
    return found
