"""Run a generated pod's container as a local process, with what its volumes would hold.

The container's command, arguments and environment are the operator's; only what cannot be
the same off-cluster changes: addresses, ports, and where mounted files lie.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from pathlib import Path
from typing import Any


def materialise_mounts(
    pod: Mapping[str, Any],
    container: Mapping[str, Any],
    objects: Mapping[tuple[str, str], Mapping[str, Any]],
    root: Path,
) -> dict[str, Path]:
    """Write each ConfigMap and Secret volume the container mounts under `root`.

    `objects` maps ("ConfigMap" | "Secret", name) to the object read from the cluster.
    Returns mount path -> local directory; other volumes (claims, emptyDirs) become empty
    directories, as a fresh volume would be.
    """
    volumes = {volume["name"]: volume for volume in pod.get("volumes") or []}
    where: dict[str, Path] = {}
    for mount in container.get("volumeMounts") or []:
        local = root / mount["name"]
        local.mkdir(parents=True, exist_ok=True)
        where[mount["mountPath"]] = local
        volume = volumes.get(mount["name"], {})
        if "configMap" in volume:
            source = objects[("ConfigMap", volume["configMap"]["name"])]
            files = {key: str(value).encode() for key, value in source["data"].items()}
            items = volume["configMap"].get("items")
        elif "secret" in volume:
            source = objects[("Secret", volume["secret"]["secretName"])]
            files = {key: base64.b64decode(value) for key, value in source["data"].items()}
            items = volume["secret"].get("items")
        else:
            continue
        paths = {item["key"]: item["path"] for item in items} if items else {k: k for k in files}
        for key, path in paths.items():
            (local / path).write_bytes(files[key])
    return where


def local_path(path: str, mounts: Mapping[str, Path]) -> str:
    """A path inside the container, as the local file the mount put there."""
    for mount_path, local in sorted(mounts.items(), key=lambda item: -len(item[0])):
        if path == mount_path or path.startswith(mount_path.rstrip("/") + "/"):
            return str(local / path[len(mount_path) :].lstrip("/"))
    return path


def localise_config(path: Path, mounts: Mapping[str, Path]) -> None:
    """Rewrite, in a materialised config file, each absolute path into a mount as the local
    file; every other word stays as generated."""
    lines = []
    for line in path.read_text().splitlines():
        words = [
            local_path(word, mounts) if word.startswith("/") else word for word in line.split(" ")
        ]
        lines.append(" ".join(words))
    path.write_text("\n".join(lines) + "\n")


def referenced(container: Mapping[str, Any], kind: str) -> set[str]:
    """Names of the ConfigMaps (`kind="configMap"`) or Secrets (`"secret"`) whose values the
    container's environment reads (`envFrom` and `env[].valueFrom`)."""
    names = {s[f"{kind}Ref"]["name"] for s in container.get("envFrom") or [] if f"{kind}Ref" in s}
    names |= {
        var["valueFrom"][f"{kind}KeyRef"]["name"]
        for var in container.get("env") or []
        if f"{kind}KeyRef" in (var.get("valueFrom") or {})
    }
    return names
