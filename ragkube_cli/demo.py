"""``ragkube demo``: the platform end to end on a local control plane."""

from __future__ import annotations

import subprocess
from typing import Annotated, Any

import typer

from ragkube_cli.checkout import import_localcluster, repo_root


def demo(
    keep: Annotated[bool, typer.Option(help="Leave the control plane running at the end.")] = False,
) -> None:
    """Start the local control plane, install the CRDs and show them."""
    lc: Any = import_localcluster()
    root = repo_root()
    directory = lc.default_cluster_dir()
    typer.echo(
        "Starting the local control plane (etcd, kube-apiserver, controller-manager, "
        "scheduler, kwok)..."
    )
    try:
        state = lc.start(directory)
    except lc.ClusterError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err
    kubectl = [str(lc.binaries().kubectl), "--kubeconfig", state.kubeconfig]
    try:
        subprocess.run([*kubectl, "apply", "--server-side", "-f", str(root / "crds")], check=True)
        subprocess.run(
            [*kubectl, "wait", "--for=condition=Established", "--timeout=60s", "crd", "--all"],
            check=True,
        )
        subprocess.run([*kubectl, "get", "crds"], check=True)
    except subprocess.CalledProcessError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from err
    finally:
        if not keep:
            lc.clean(directory)
    if keep:
        typer.echo(f"\nThe control plane keeps running. export KUBECONFIG={state.kubeconfig}")
