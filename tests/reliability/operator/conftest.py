"""Fixtures of the operator's reliability tests: the e2e fixtures, plus a fault-injecting proxy.

The cluster, the chart and the per-test namespace are the operator e2e suite's own fixtures
(`tests/e2e/operator/conftest.py`), imported rather than copied; so are the helpers that run
the operator as a subprocess with the chart's ServiceAccount token. Tests here kill that
operator, restart it, or move it behind an `ApiServerProxy`; every test leaves it running
and talking to the API server directly again.

The operator process is this directory's own (module-scoped), and during each test here it
must be the only one: when `tests/e2e/operator` ran earlier in the same pytest session, its
session-scoped operator is still alive and would quietly repair every fault injected here.
`sole_operator` pauses it (SIGSTOP) for the duration of each test and resumes it after.
Sharing one operator fixture between both suites (in `tests/conftest.py`) would remove the
need for this.
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.operator.conftest import chart, kube, namespace
from tests.e2e.operator.operator_e2e import Kube, OperatorProcess, service_account_kubeconfig

from .api_server_proxy import ApiServerProxy, kubeconfig_through, proxy_in_front_of

__all__ = ["chart", "kube", "namespace", "operator", "proxied_operator", "sole_operator"]


@pytest.fixture(scope="module")
def operator(
    kube: Kube, chart: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[OperatorProcess]:
    """The operator, running with the chart's ServiceAccount credentials, for one module."""
    directory = tmp_path_factory.mktemp("operator")
    kubeconfig = service_account_kubeconfig(kube, directory / "kubeconfig")
    process = OperatorProcess(kubeconfig, directory / "operator.log")
    process.start()
    yield process
    process.stop()


def other_operators(mine: OperatorProcess) -> list[int]:
    """Pids of ragkube operators started by this pytest process, other than `mine`."""
    own = mine.process.pid if mine.process is not None else None
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == own:
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parent = int(stat.rsplit(")", 1)[1].split()[1])
        if parent == os.getpid() and b"ragkube_operator.main" in cmdline:
            found.append(int(entry.name))
    return found


@pytest.fixture(autouse=True)
def sole_operator(operator: OperatorProcess) -> Iterator[None]:
    """Pause any other operator of this session while a test here runs (see above)."""
    paused = other_operators(operator)
    for pid in paused:
        os.kill(pid, signal.SIGSTOP)
    try:
        yield
    finally:
        for pid in paused:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGCONT)


@pytest.fixture
def proxied_operator(operator: OperatorProcess, tmp_path: Path) -> Iterator[ApiServerProxy]:
    """The operator restarted behind an `ApiServerProxy`, then put back as it was."""
    proxy = proxy_in_front_of(operator.kubeconfig)
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
