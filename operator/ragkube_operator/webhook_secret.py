"""The Secret `<rd>-webhooks` holding `webhooks.json`, rendered from the Webhook resources.

The API pods mount it at `api_image.WEBHOOKS_MOUNT_DIR` and reload the file when the kubelet
updates it. The file is a JSON object:

    {"webhooks": [{"name": "ns/name", "url": "https://...", "events": ["query.completed"],
                   "secret": "<HMAC key>"}]}

sorted by name, so the same Webhooks always give the same bytes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from typing import Any

from ragkube_contract import api_image
from ragkube_operator import labels
from ragkube_operator.models import RagDeployment, Webhook


def webhooks_document(webhooks: Iterable[Webhook], hmac_keys: Mapping[str, str]) -> str:
    """The text of `webhooks.json`; `hmac_keys` maps a Webhook's name to its signing key.

    Webhooks whose key is not in `hmac_keys` (their Secret is missing) are left out.
    """
    entries = [
        {
            "name": f"{hook.namespace}/{hook.name}",
            "url": hook.spec.url,
            "events": sorted(hook.spec.events),
            "secret": hmac_keys[hook.name],
        }
        for hook in sorted(webhooks, key=lambda hook: hook.name)
        if hook.name in hmac_keys
    ]
    return json.dumps({"webhooks": entries}, indent=2, sort_keys=True) + "\n"


def webhook_secret(
    rd: RagDeployment, webhooks: Iterable[Webhook], hmac_keys: Mapping[str, str]
) -> dict[str, Any]:
    """The Secret `<rd>-webhooks` with the one key `api_image.WEBHOOKS_FILE_NAME`."""
    document = webhooks_document(webhooks, hmac_keys)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": labels.webhooks_secret_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.WEBHOOKS),
        },
        "type": "Opaque",
        "data": {api_image.WEBHOOKS_FILE_NAME: base64.b64encode(document.encode()).decode()},
    }
