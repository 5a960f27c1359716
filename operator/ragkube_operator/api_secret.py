"""The Secret holding keys the operator generates: the JWT signing key, the Chroma token, the
lexical index server's token and, with managed Redis, its password (plus the URL and users
file derived from it).

The values are generated once by the handler (`generated_values`) and read back on every
later reconcile, so they are never rotated behind the user's back. A key the user supplies
through `spec.auth.jwtSecretRef` is used instead and not generated.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
from typing import Any, Final

from ragkube_operator import labels
from ragkube_operator.models import RagDeployment
from ragkube_operator.redis_config import REDIS_PASSWORD_KEY, redis_secret_data
from ragkube_operator.secret_keys import SecretValueNotText, text_value

JWT_KEY: Final = "jwt-secret-key"
CHROMA_TOKEN_KEY: Final = "chroma-auth-token"  # noqa: S105  (a key name, not a secret)
INDEX_TOKEN_KEY: Final = "lexical-index-token"  # noqa: S105  (a key name, not a secret)


def generated_keys(rd: RagDeployment) -> tuple[str, ...]:
    """Keys this RagDeployment's generated Secret must hold."""
    keys = (
        (CHROMA_TOKEN_KEY, INDEX_TOKEN_KEY)
        if rd.spec.auth.jwt_secret_ref is not None
        else (JWT_KEY, CHROMA_TOKEN_KEY, INDEX_TOKEN_KEY)
    )
    return (*keys, REDIS_PASSWORD_KEY) if rd.spec.redis.managed else keys


def generated_values(rd: RagDeployment, existing: Mapping[str, str] | None) -> dict[str, str]:
    """Values for the generated Secret: the existing ones kept, missing ones created.

    `existing` is the `data` of the Secret as read from the API (base64), or None. Only the
    generated keys are read: other keys someone added are none of the operator's business.
    A generated value that is not text (hand-edited) is unusable by the API and Chroma alike,
    so it is replaced like a missing one instead of failing every reconcile.
    """
    secret = {"data": dict(existing or {})}
    values = {}
    for key in generated_keys(rd):
        try:
            current = text_value(secret, key)
        except SecretValueNotText:
            current = None
        values[key] = current or secrets.token_urlsafe(48)
    return values


def api_secret(rd: RagDeployment, values: Mapping[str, str]) -> dict[str, Any]:
    """The Secret `<rd>-secrets` holding `values` (clear text in, base64 in `data`).

    With managed Redis, the keys derived from its password are added.
    """
    password = values.get(REDIS_PASSWORD_KEY)
    if rd.spec.redis.managed and password:
        values = {**values, **redis_secret_data(rd, password)}
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": labels.api_secret_name(rd.name),
            "namespace": rd.namespace,
            "labels": labels.standard_labels(rd.name, labels.API),
        },
        "type": "Opaque",
        "data": {
            key: base64.b64encode(value.encode()).decode() for key, value in sorted(values.items())
        },
    }
