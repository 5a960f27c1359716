"""Fixtures of the operator's reliability tests: the e2e fixtures, plus a fault-injecting proxy.

The cluster, the chart, the operator process and the per-test namespace are the operator
e2e suite's own fixtures (`tests/e2e/operator/conftest.py`), imported rather than copied:
the operator runs as a subprocess with the chart's ServiceAccount token. Tests here kill it,
restart it, or move it behind an `ApiServerProxy`; every test leaves it running and talking
to the API server directly again.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml

from tests.e2e.operator.conftest import chart, kube, namespace, operator
from tests.e2e.operator.operator_e2e import OperatorProcess

from .api_server_proxy import ApiServerProxy

__all__ = ["chart", "kube", "namespace", "operator", "proxied_operator"]


def kubeconfig_through(source: Path, target: Path, port: int) -> Path:
    """A copy of the kubeconfig `source` whose server is 127.0.0.1:`port`."""
    config = yaml.safe_load(source.read_text())
    for cluster in config["clusters"]:
        cluster["cluster"]["server"] = f"https://127.0.0.1:{port}"
    target.write_text(yaml.safe_dump(config))
    return target


@pytest.fixture
def proxied_operator(operator: OperatorProcess, tmp_path: Path) -> Iterator[ApiServerProxy]:
    """The operator restarted behind an `ApiServerProxy`, then put back as it was."""
    config = yaml.safe_load(operator.kubeconfig.read_text())
    server = urlsplit(config["clusters"][0]["cluster"]["server"])
    assert server.hostname is not None and server.port is not None
    proxy = ApiServerProxy(server.hostname, server.port)
    proxy.start()
    direct = operator.kubeconfig
    operator.stop()
    operator.kubeconfig = kubeconfig_through(direct, tmp_path / "kubeconfig", proxy.port)
    try:
        operator.start()
        yield proxy
    finally:
        operator.stop()
        proxy.stop()
        operator.kubeconfig = direct
        operator.start()
