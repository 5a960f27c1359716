"""Builders of RagDeployment inputs for the operator's unit tests."""

from __future__ import annotations

from typing import Any

from ragkube_operator.models import RagDeployment, RagDeploymentSpec

#: The Kubernetes version the project pins (the local control plane runs it).
KUBERNETES_VERSION = "1.34.0"


def make_rd(name: str = "demo", namespace: str = "team-a", **spec: Any) -> RagDeployment:
    """A RagDeployment with the given camelCase spec (defaults everywhere else)."""
    return RagDeployment(
        name=name,
        namespace=namespace,
        uid="0b0c7a4e-1111-4222-8333-944445555666",
        generation=3,
        spec=RagDeploymentSpec.model_validate(spec),
    )
