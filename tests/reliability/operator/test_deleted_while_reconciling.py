"""A RagDeployment deleted while the operator is still creating its children leaves nothing.

Every child carries an owner reference to the RagDeployment, so the garbage collector takes
whatever the operator creates, even what it applies after the deletion. What must remain
are the storage tier's volume claims, Chroma's and the lexical index's (kept on purpose:
deleting a RagDeployment never deletes data) and the user's own objects (Webhooks and their
key Secrets), which must be rendered again into the Secret of a RagDeployment re-created under
the same name.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
import yaml

from ragkube_contract import api_image
from tests.e2e.operator.operator_e2e import Kube, OperatorProcess, eventually, rag_deployment

from . import inventory

pytestmark = pytest.mark.e2e
USER_OBJECTS = {("Secret", "hook-key")}


def hook(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "ragkube.dev/v1alpha1",
        "kind": "Webhook",
        "metadata": {"name": name},
        "spec": {
            "ragDeploymentRef": {"name": "doomed"},
            "url": f"https://hooks.example.com/{name}",
            "events": ["query.completed"],
            "secretRef": {"name": "hook-key", "key": "hmac"},
        },
    }


def rendered(kube: Kube, namespace: str) -> dict[str, str]:
    """Webhook name -> signing key, as rendered for the API pods of `doomed`."""
    secret = kube.get("secret", "doomed-webhooks", namespace) or {"data": {}}
    encoded = secret["data"].get(api_image.WEBHOOKS_FILE_NAME)
    entries = json.loads(base64.b64decode(encoded))["webhooks"] if encoded else []
    return {entry["name"].split("/")[1]: entry["secret"] for entry in entries}


def nothing_but_kept_objects(kube: Kube, namespace: str) -> bool:
    found = inventory.objects(kube, namespace)
    return found - USER_OBJECTS <= inventory.volume_claims("doomed")


def create(kube: Kube, namespace: str) -> None:
    kube.apply(
        namespace,
        yaml.safe_dump_all(
            [
                rag_deployment("doomed", api={"replicas": 2, "autoscaling": {"enabled": True}}),
                hook("first"),
                hook("second"),
            ]
        ),
    )


def test_deleted_mid_creation_leaves_only_its_data_and_user_objects(
    kube: Kube, namespace: str, operator: OperatorProcess
) -> None:
    kube.kubectl(
        "create", "secret", "generic", "hook-key", "--from-literal=hmac=k1", "-n", namespace
    )
    create(kube, namespace)
    eventually(
        lambda: kube.get("configmap", "doomed-api-config", namespace),
        timeout=30,
        what="the creation under way",
    )
    kube.kubectl("delete", "ragdeployment", "doomed", "-n", namespace, "--wait=false")
    eventually(
        lambda: nothing_but_kept_objects(kube, namespace),
        timeout=60,
        what=f"every child collected: {sorted(inventory.objects(kube, namespace))}",
    )
    # Still true a little later: no late apply of the interrupted reconcile resurrected one.
    eventually(lambda: kube.get("ragdeployment", "doomed", namespace) is None, timeout=30)
    assert nothing_but_kept_objects(kube, namespace)
    assert {item["metadata"]["name"] for item in kube.items("webhooks", namespace)} == {
        "first",
        "second",
    }

    create(kube, namespace)
    assert eventually(
        lambda: (r := rendered(kube, namespace)) and len(r) == 2 and r,
        timeout=60,
        what="both Webhooks rendered for the re-created RagDeployment",
    ) == {"first": "k1", "second": "k1"}
    kube.kubectl("delete", "webhook", "first", "-n", namespace, "--timeout=30s")
    eventually(
        lambda: rendered(kube, namespace) == {"second": "k1"},
        timeout=30,
        what="the deleted Webhook dropped from the rendered Secret",
    )


def test_rotated_signing_key_is_rendered_once_the_webhook_is_touched(
    kube: Kube, namespace: str, operator: OperatorProcess
) -> None:
    kube.kubectl(
        "create", "secret", "generic", "hook-key", "--from-literal=hmac=k1", "-n", namespace
    )
    create(kube, namespace)
    eventually(lambda: rendered(kube, namespace) == {"first": "k1", "second": "k1"}, timeout=60)
    kube.kubectl(
        "patch", "secret", "hook-key", "-n", namespace, "--type=merge",
        "-p", json.dumps({"data": {"hmac": base64.b64encode(b"k2").decode()}}),
    )  # fmt: skip
    kube.kubectl("annotate", "webhook", "first", "key-rotated-at=1", "-n", namespace, "--overwrite")
    eventually(
        lambda: rendered(kube, namespace) == {"first": "k2", "second": "k2"},
        timeout=30,
        what="the new key rendered for every Webhook using it",
    )
