#!/usr/bin/env bash
# What CI runs for the TypeScript SDK: a clean install from the lock file, the build, the tests.
# The tests start the real Python API, so the repository's .venv must exist (or set
# RAGKUBE_PYTHON to a Python that can import api and rag_core).
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
npm run build
npm test
