"""Run the operator in this process against a kubeconfig (the `ragkube operator` command)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


def run_operator(
    kubeconfig: Path | None,
    namespace: str | None,
    *,
    liveness_endpoint: str | None = "http://127.0.0.1:8080/healthz",
) -> None:
    """Run until interrupted, watching one namespace or (None) every namespace.

    `kubeconfig` None uses $KUBECONFIG or ~/.kube/config. Runs standalone (no peering):
    one local operator, so do not run it next to an in-cluster one.
    """
    import kopf

    if kubeconfig is not None:
        os.environ["KUBECONFIG"] = str(kubeconfig)
    os.environ.setdefault("RAGKUBE_OPERATOR_LOG_FORMAT", "console")
    import ragkube_operator.main  # noqa: F401  (registers the handlers)

    asyncio.run(
        kopf.operator(
            standalone=True,
            clusterwide=namespace is None,
            namespaces=[namespace] if namespace else [],
            liveness_endpoint=liveness_endpoint,
        )
    )
