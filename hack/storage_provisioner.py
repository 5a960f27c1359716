"""A simulated volume provisioner for the local control plane.

kwok fakes nodes and pods but not storage, so a StatefulSet's PersistentVolumeClaims would
stay Pending for ever. This process watches claims of the ``standard`` StorageClass and
creates a matching PersistentVolume (a hostPath that no kubelet will ever mount) bound to
each; released volumes are deleted, as a real ``Delete`` reclaim policy would. It uses
kubectl watches only (event-driven, standard library only).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import threading
import time

PROVISIONER = "ragkube.dev/simulated"
STORAGE_CLASS = "standard"


def _kubectl(args: argparse.Namespace, *cmd: str, stdin: str | None = None) -> None:
    subprocess.run(
        [args.kubectl, "--kubeconfig", args.kubeconfig, *cmd],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def _watch(args: argparse.Namespace, *resource: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            args.kubectl,
            "--kubeconfig",
            args.kubeconfig,
            "get",
            *resource,
            "--watch",
            "-o",
            "json",
            "--output-watch-events",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )


def _json_objects(stream: subprocess.Popen[str]) -> list[dict[str, object]] | None:
    """Read one watch event (kubectl prints pretty JSON objects one after another)."""
    assert stream.stdout is not None
    decoder = json.JSONDecoder()
    buffer = ""
    for line in stream.stdout:
        buffer += line
        try:
            event, _ = decoder.raw_decode(buffer.strip())
        except json.JSONDecodeError:
            continue
        buffer = ""
        return [event]
    return None


def persistent_volume_for(claim: dict) -> dict:  # type: ignore[type-arg]
    """The PersistentVolume that satisfies ``claim``, pre-bound to it."""
    meta = claim["metadata"]
    name = f"pv-{meta['uid']}"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": name, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
        "spec": {
            "capacity": {"storage": claim["spec"]["resources"]["requests"]["storage"]},
            "accessModes": claim["spec"].get("accessModes", ["ReadWriteOnce"]),
            "persistentVolumeReclaimPolicy": "Delete",
            "storageClassName": STORAGE_CLASS,
            "hostPath": {"path": f"/var/lib/ragkube-simulated/{name}"},
            "claimRef": {
                "apiVersion": "v1",
                "kind": "PersistentVolumeClaim",
                "namespace": meta["namespace"],
                "name": meta["name"],
                "uid": meta["uid"],
            },
        },
    }


def _provision(args: argparse.Namespace) -> None:
    # The API server ends every watch after a while; start a new one (it lists first).
    while True:
        _provision_once(args)
        time.sleep(1)  # back off before reconnecting when the API server is unreachable


def _provision_once(args: argparse.Namespace) -> None:
    stream = _watch(args, "persistentvolumeclaims", "--all-namespaces")
    while (events := _json_objects(stream)) is not None:
        for event in events:
            claim = event.get("object", {})
            if not isinstance(claim, dict) or event.get("type") == "DELETED":
                continue
            spec = claim.get("spec", {})
            wants_us = spec.get("storageClassName") == STORAGE_CLASS
            if (
                wants_us
                and not spec.get("volumeName")
                and claim.get("status", {}).get("phase") == "Pending"
            ):
                _kubectl(args, "create", "-f", "-", stdin=json.dumps(persistent_volume_for(claim)))


def _reclaim(args: argparse.Namespace) -> None:
    while True:
        _reclaim_once(args)
        time.sleep(1)


def _reclaim_once(args: argparse.Namespace) -> None:
    stream = _watch(args, "persistentvolumes")
    while (events := _json_objects(stream)) is not None:
        for event in events:
            volume = event.get("object", {})
            if not isinstance(volume, dict) or event.get("type") == "DELETED":
                continue
            annotations = volume.get("metadata", {}).get("annotations", {})
            released = volume.get("status", {}).get("phase") == "Released"
            if released and annotations.get("pv.kubernetes.io/provisioned-by") == PROVISIONER:
                _kubectl(args, "delete", "pv", volume["metadata"]["name"], "--wait=false")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubeconfig", required=True)
    parser.add_argument("--kubectl", required=True)
    args = parser.parse_args()
    threads = [
        threading.Thread(target=fn, args=(args,), daemon=True) for fn in (_provision, _reclaim)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return 0


if __name__ == "__main__":
    sys.exit(main())
