"""The README's main job, `ragkube demo`, runs end to end: cluster, chart, operator, API, query."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_reaches_ready_ingests_and_answers_a_question() -> None:
    env = {**os.environ, "COLUMNS": "120", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ragkube_cli.main",
            "demo",
            "--no-serve",
            "--question",
            "How does ragkube combine dense and lexical retrieval?",
        ],
        capture_output=True,
        text=True,
        timeout=900,
        env=env,
        check=False,
    )

    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    # `kubectl get ragdeployments` printed real printer-column values.
    assert re.search(r"docs\s+2/2\s+Ready\s+2\s+http://docs-api\.ragkube-demo\.svc:8000", output)
    assert "10 documents ingested" in output
    assert "answer (confidence" in output
    assert "[1]" in output  # numbered sources
    assert "Cleaned up." in output
