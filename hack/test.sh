#!/usr/bin/env bash
# The whole test suite, as CI runs it: set-up, lint, types, import contracts, then pytest
# (unit, integration against real Redis/Chroma, e2e against the real local control plane).
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
VENV=${RAGKUBE_VENV:-.venv}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False

echo "==> ruff"
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .
echo "==> mypy"
"$VENV/bin/mypy"
"$VENV/bin/mypy" hack/localcluster.py hack/storage_provisioner.py
echo "==> import contracts"
"$VENV/bin/lint-imports"
echo "==> pytest"
"$VENV/bin/python" -m pytest "$@"
