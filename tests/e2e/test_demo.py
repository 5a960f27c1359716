"""The README's main job, `ragkube demo`, runs end to end: cluster, chart, operator, API, query."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.e2e


def test_demo_reaches_ready_ingests_and_answers_a_question(tmp_path: object) -> None:
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
    assert "Ready" in output  # kubectl get ragdeployments printed the READY column's value
    assert "10 documents ingested" in output
    assert "answer (confidence" in output
    assert "[1]" in output  # numbered sources
    assert "Cleaned up." in output
