#!/usr/bin/env bash
# Installs everything ragkube's demo and tests need on a fresh Debian machine, idempotently:
# Debian packages, a virtualenv with ragkube and its dev tools, and the control-plane binaries
# (built once into ~/.cache/ragkube, keyed by version). Safe to run again: it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n==> %s\n' "$*"; }

if [[ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]]; then
  echo "error: ragkube's local setup supports Linux x86-64 only (this is $(uname -s) $(uname -m))" >&2
  exit 1
fi
for tool in python3 go git node npm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "error: '$tool' is missing; install it first (python3 >= 3.11, Go >= 1.24, git, Node.js >= 20 with npm)" >&2
    exit 1
  fi
done
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: python3 is $(python3 -V 2>&1); ragkube needs Python 3.11 or newer" >&2
  exit 1
fi

APT_PACKAGES=(redis-server prometheus openssl ca-certificates)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
  log "apt-get install ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts a system redis on 6379 after install; the tests start their own on free ports.

VENV=${RAGKUBE_VENV:-.venv}
if [[ ! -x "$VENV/bin/python" ]]; then
  log "creating virtualenv $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.ragkube-installed"
if [[ ! -f "$stamp" || pyproject.toml -nt "$stamp" ]]; then
  log "pip install -e .[dev] (the first run downloads PyTorch: a few GB, cached by pip)"
  "$VENV/bin/pip" install --quiet -e ".[dev]"
  touch "$stamp"
fi

log "control-plane binaries (first build: 20-40 minutes on 2 cores; then cached)"
"$VENV/bin/python" hack/localcluster.py build
