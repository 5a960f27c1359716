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
echo "==> TypeScript SDK (npm ci, tsc, vitest against a live API server)"
bash clients/typescript/run-tests.sh
echo "==> container images (buildah: build both, start the API image and call /ready)"
bash hack/build_images.sh
# pytest last, so that its summary closes the output.
echo "==> pytest (unit, integration, e2e, reliability, security, fuzz)"
"$VENV/bin/python" -m pytest "$@"
