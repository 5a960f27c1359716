"""Secrets the user references: whether the referenced key is there, and its value as text.

Pure functions over a Secret as read from the API (or None when it does not exist), so
that the handlers can say exactly what is wrong: the Secret is missing, the key is missing,
or the value is not text where text is needed.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from ragkube_operator.models import SecretKeyRef

#: Key names listed in a message about a Secret lacking the referenced key, at most.
_LISTED_KEYS = 10


class SecretValueNotText(ValueError):
    """The referenced value is not UTF-8 text (or not valid base64), where text is needed."""


def missing(
    path: str, namespace: str, ref: SecretKeyRef, secret: Mapping[str, Any] | None
) -> str | None:
    """A sentence saying what is missing for `ref`, or None when its key is there.

    `path` names the spec field holding the reference, so the user knows what to fix.
    """
    where = f"Secret {namespace}/{ref.name}"
    if secret is None:
        return f"{path} names {where}, which does not exist; create it."
    keys = sorted(secret.get("data") or {})
    if ref.key in keys:
        return None
    held = ", ".join(repr(key) for key in keys[:_LISTED_KEYS]) or "none"
    if len(keys) > _LISTED_KEYS:
        held += ", ..."
    return (
        f"{path} names key {ref.key!r} of {where}, which has no such key (its keys: {held}); "
        "add the key or change the reference."
    )


def text_value(secret: Mapping[str, Any] | None, key: str) -> str | None:
    """The value of `key` as text; None when the Secret or key is missing.

    Raises `SecretValueNotText` when the value is binary: such a value cannot be written
    into a JSON file or compared as a string, and guessing a decoding would change the key.
    """
    encoded = ((secret or {}).get("data") or {}).get(key)
    if encoded is None:
        return None
    try:
        return base64.b64decode(encoded, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError) as error:
        raise SecretValueNotText(key) from error
