"""The `data` volume claim template of the StatefulSets, and keeping it as Kubernetes demands.

Kubernetes refuses every change to a StatefulSet's volume claim templates, so the operator
holds such a change back (`keep_live_claim`) instead of failing the whole apply.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from kubernetes.utils import parse_quantity

from ragkube_operator import labels
from ragkube_operator.models import ChromaStorage, RagDeployment


def data_claim_template(
    rd: RagDeployment, component: str, storage: ChromaStorage
) -> dict[str, Any]:
    """The ReadWriteOnce claim template `data` of `storage`'s size and class."""
    claim_spec: dict[str, Any] = {
        "accessModes": ["ReadWriteOnce"],
        "resources": {"requests": {"storage": storage.size}},
    }
    if storage.storage_class_name:
        claim_spec["storageClassName"] = storage.storage_class_name
    return {
        "metadata": {"name": "data", "labels": labels.standard_labels(rd.name, component)},
        "spec": claim_spec,
    }


def _storage_of(rd: RagDeployment, statefulset: Mapping[str, Any]) -> tuple[ChromaStorage, str]:
    """The spec storage a StatefulSet's claim comes from, and that field's path."""
    component = ((statefulset.get("metadata") or {}).get("labels") or {}).get(labels.COMPONENT_KEY)
    if component == labels.REDIS:
        return rd.spec.redis.storage, "spec.redis.storage"
    if component == labels.LEXICAL_INDEX:
        return rd.spec.vector_store.lexical_index.storage, "spec.vectorStore.lexicalIndex.storage"
    return rd.spec.vector_store.chroma.storage, "spec.vectorStore.chroma.storage"


def _claim_spec(statefulset: Mapping[str, Any]) -> Mapping[str, Any]:
    templates = (statefulset.get("spec") or {}).get("volumeClaimTemplates") or [{}]
    spec: Mapping[str, Any] = templates[0].get("spec") or {}
    return spec


def _size(claim: Mapping[str, Any]) -> str | None:
    size = ((claim.get("resources") or {}).get("requests") or {}).get("storage")
    return None if size is None else str(size)


def _same_size(first: str | None, second: str | None) -> bool:
    if first is None or second is None:
        return first == second
    try:
        return bool(parse_quantity(first) == parse_quantity(second))
    except ValueError:
        return first == second


def data_claim_name(statefulset_name: str) -> str:
    """Name of the PersistentVolumeClaim holding the data of a StatefulSet's only pod."""
    return f"data-{statefulset_name}-0"


def keep_live_claim(
    rd: RagDeployment, desired: dict[str, Any], live: Mapping[str, Any] | None
) -> tuple[dict[str, Any], str | None]:
    """The StatefulSet to apply, given the one in the cluster, and a problem if any.

    Kubernetes refuses every change to a StatefulSet's volume claim templates, so applying
    a new storage size or class would fail the whole apply. When the spec asks for one,
    the live template is kept (the rest of the StatefulSet still follows the spec) and the
    returned sentence tells the user what to do instead. Sizes are compared as quantities:
    `1024Mi` and `1Gi` are the same size.
    """
    if live is None:
        return desired, None
    wanted, current = _claim_spec(desired), _claim_spec(live)
    same_size = _same_size(_size(wanted), _size(current))
    same_class = wanted.get("storageClassName") == current.get("storageClassName")
    if same_size and same_class:
        return desired, None
    kept = copy.deepcopy(desired)
    claim = kept["spec"]["volumeClaimTemplates"][0]["spec"]
    claim["resources"]["requests"]["storage"] = _size(current) or _size(wanted)
    claim.pop("storageClassName", None)
    if current.get("storageClassName") is not None:
        claim["storageClassName"] = current["storageClassName"]
    default = "(the cluster default)"
    storage, path = _storage_of(rd, desired)
    name = desired["metadata"]["name"]
    asked = [] if same_size else [f"size {storage.size}"]
    if not same_class:
        asked.append(f"storageClassName {storage.storage_class_name or default}")
    had = f"size {_size(current)} and storageClassName {current.get('storageClassName') or default}"
    claim_name = data_claim_name(name)
    problem = (
        f"{path} asks for {' and '.join(asked)}, but the volume "
        f"claim template of StatefulSet {rd.namespace}/{name} holds "
        f"{had}, and Kubernetes "
        "does not allow changing it; everything else is applied and the data volume is kept "
        f"as it is. To grow the volume, expand PersistentVolumeClaim {claim_name} (its "
        "StorageClass must allow volume expansion) and then delete the StatefulSet with "
        "--cascade=orphan so that it is re-created with the new template; or set "
        f"{path} back."
    )
    return kept, problem
