"""Resolve a container's environment the way the kubelet does, from its ConfigMaps and Secrets.

Used to run the API image's process locally with exactly the settings the operator generated.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any


class UnresolvableEnvironment(ValueError):
    """A variable refers to a ConfigMap, Secret or key that is not there."""


def _secret_value(secret: Mapping[str, Any], key: str) -> str:
    if key in secret.get("stringData", {}):
        return str(secret["stringData"][key])
    return base64.b64decode(secret["data"][key]).decode()


def container_environment(
    container: Mapping[str, Any],
    configmaps: Mapping[str, Mapping[str, Any]],
    secrets: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """The variables a pod's container would see: ``envFrom`` first, then ``env`` on top.

    Optional references that are missing are left out, as the kubelet does; a missing required
    one raises `UnresolvableEnvironment` naming it.
    """
    env: dict[str, str] = {}
    for source in container.get("envFrom", []):
        prefix = source.get("prefix", "")
        if "configMapRef" in source:
            ref, objects, kind = source["configMapRef"], configmaps, "ConfigMap"
        else:
            ref, objects, kind = source["secretRef"], secrets, "Secret"
        obj = objects.get(ref["name"])
        if obj is None:
            if ref.get("optional"):
                continue
            raise UnresolvableEnvironment(f"{kind} {ref['name']} is missing")
        keys = (
            obj.get("data", {})
            if kind == "ConfigMap"
            else {**obj.get("data", {}), **obj.get("stringData", {})}
        )
        for key in keys:
            env[prefix + key] = (
                str(obj["data"][key]) if kind == "ConfigMap" else _secret_value(obj, key)
            )
    for var in container.get("env", []):
        if "value" in var:
            env[var["name"]] = str(var["value"])
            continue
        source = var.get("valueFrom", {})
        for ref_key, objects, kind in (
            ("configMapKeyRef", configmaps, "ConfigMap"),
            ("secretKeyRef", secrets, "Secret"),
        ):
            if ref_key not in source:
                continue
            ref = source[ref_key]
            obj = objects.get(ref["name"])
            present = obj is not None and (
                ref["key"] in obj.get("data", {}) or ref["key"] in obj.get("stringData", {})
            )
            if not present:
                if ref.get("optional"):
                    break
                raise UnresolvableEnvironment(
                    f"{var['name']}: {kind} {ref['name']} has no key {ref['key']}"
                )
            assert obj is not None
            env[var["name"]] = (
                str(obj["data"][ref["key"]])
                if kind == "ConfigMap"
                else _secret_value(obj, ref["key"])
            )
    return env
