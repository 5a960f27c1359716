#!/usr/bin/env bash
# The README's main command: set up, then run the local demo of the platform.
set -euo pipefail
cd "$(dirname "$0")/.."
bash hack/setup.sh
VENV=${RAGKUBE_VENV:-.venv}
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 ANONYMIZED_TELEMETRY=False
exec "$VENV/bin/ragkube" demo "$@"
