"""Restricted pod security settings shared by the API and Chroma pods.

They satisfy the Kubernetes "restricted" Pod Security Standard: non-root with a numeric
user, no privilege escalation, every capability dropped, the RuntimeDefault seccomp profile
and a read-only root filesystem (writable paths are emptyDirs or volumes).
"""

from __future__ import annotations

from typing import Any, Final

#: Numeric user and group the containers run as (runAsNonRoot needs a number to check).
RUN_AS_USER: Final = 10001


def pod_security_context() -> dict[str, Any]:
    """Pod-level security context."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "runAsGroup": RUN_AS_USER,
        "fsGroup": RUN_AS_USER,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security_context() -> dict[str, Any]:
    """Container-level security context."""
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS_USER,
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def restricted_pod_spec(
    containers: list[dict[str, Any]], volumes: list[dict[str, Any]]
) -> dict[str, Any]:
    """A pod spec with the restricted security context, no service-account token and no
    service links (none of the pods talks to the Kubernetes API or needs Service env)."""
    return {
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": pod_security_context(),
        "containers": containers,
        "volumes": volumes,
    }
