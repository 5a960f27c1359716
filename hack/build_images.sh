#!/usr/bin/env bash
# Build the API and operator images without a Docker engine, then prove they run.
#
#   hack/build_images.sh            # build both, smoke-test both, print sizes
#
# Recipe (see the project's container-image notes): a Debian base image made locally by
# mmdebstrap from Debian's packages and tagged with the official name, so the Dockerfiles stay
# unchanged for everyone who pulls the real image; `buildah bud` with chroot isolation and the
# docker format (OCI drops HEALTHCHECK); podman with runc to run the result. Needs root.
# Environment: API_IMAGE, OPERATOR_IMAGE (tags), KEEP_WORKDIR=1 to keep logs.
set -euo pipefail
cd "$(dirname "$0")/.."

API_IMAGE=${API_IMAGE:-localhost/ragkube-api:dev}
OPERATOR_IMAGE=${OPERATOR_IMAGE:-localhost/ragkube-operator:dev}
BASE_IMAGE=docker.io/library/debian:bookworm-slim
WORKDIR=$(mktemp -d /tmp/ragkube-images.XXXXXX)
API_CONTAINER=ragkube-api-smoke-$$
INDEX_CONTAINER=ragkube-index-smoke-$$
cleanup() {
  podman rm -f "$API_CONTAINER" "$INDEX_CONTAINER" >/dev/null 2>&1 || true
  if [[ "${KEEP_WORKDIR:-0}" != 1 ]]; then rm -rf "$WORKDIR"; fi
}
trap cleanup EXIT

log() { printf '\n==> %s\n' "$*"; }
fail() { printf 'build_images: %s\n' "$*" >&2; exit 1; }

if ! command -v buildah >/dev/null || ! command -v podman >/dev/null \
   || ! command -v mmdebstrap >/dev/null || ! command -v runc >/dev/null; then
  log "installing buildah, podman, runc and mmdebstrap (Debian packages)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    buildah podman runc mmdebstrap fuse-overlayfs uidmap >/dev/null
fi

# podman's defaults set limits this kind of machine refuses, and expect systemd.
cat >"$WORKDIR/containers.conf" <<'CONF'
[containers]
default_ulimits=["nofile=20000:20000","nproc=32768:32768"]
[engine]
cgroup_manager="cgroupfs"
events_logger="file"
runtime="runc"
CONF
export CONTAINERS_CONF="$WORKDIR/containers.conf"

if ! podman image exists "$BASE_IMAGE"; then
  log "making $BASE_IMAGE from Debian packages (mmdebstrap)"
  mmdebstrap --quiet --variant=minbase --include=ca-certificates bookworm "$WORKDIR/rootfs.tar"
  podman import --quiet "$WORKDIR/rootfs.tar" "$BASE_IMAGE" >/dev/null
fi

hadolint=$(command -v hadolint || echo .venv/bin/hadolint)
if [[ -x "$hadolint" ]]; then
  log "linting the Dockerfiles (hadolint)"
  "$hadolint" Dockerfile.api Dockerfile.operator
fi

# Layer caching (--layers) keeps each build's stages as untagged images; rebuilds of changed
# sources leave the old ones behind (the API build stage is ~7 GB). Keep the cache while
# the disk has room; drop the untagged leftovers when it does not, so a rebuild never fails
# for lack of space we used ourselves.
free_gb=$(df -Pk "$(buildah info --format '{{.store.GraphRoot}}' 2>/dev/null || echo /)" \
  | awk 'NR == 2 { print int($4 / 1024 / 1024) }')
if (( free_gb < 25 )); then
  log "only ${free_gb} GB free: removing untagged images from earlier builds"
  buildah rm --all >/dev/null 2>&1 || true
  buildah rmi --prune >/dev/null 2>&1 || true
fi

build() {  # build IMAGE DOCKERFILE
  local started=$SECONDS
  log "building $1 from $2"
  # pip inside the build verifies TLS against the host's CA bundle (mounted for the build only).
  buildah bud --quiet --isolation chroot --network host --format docker --layers \
    -v /etc/ssl/certs/ca-certificates.crt:/etc/ssl/certs/ca-certificates.crt:ro \
    --build-arg "REVISION=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)" \
    -t "$1" -f "$2" . >"$WORKDIR/$(basename "$2").log" 2>&1 \
    || { tail -n 60 "$WORKDIR/$(basename "$2").log"; fail "building $2 failed"; }
  printf '    built in %ss\n' $((SECONDS - started))
}
build "$API_IMAGE" Dockerfile.api
build "$OPERATOR_IMAGE" Dockerfile.operator

for image in "$API_IMAGE" "$OPERATOR_IMAGE"; do
  user=$(podman image inspect --format '{{.Config.User}}' "$image")
  [[ "$user" == 10001:10001 ]] || fail "$image runs as '$user', not 10001:10001"
  podman image inspect --format '{{.Config.Healthcheck}}' "$image" | grep -q CMD \
    || fail "$image has no HEALTHCHECK"
done

log "running $API_IMAGE and waiting for /ready"
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
podman run -d --network host --name "$API_CONTAINER" -e PORT="$port" -e WORKERS=1 \
  "$API_IMAGE" >/dev/null
started=$SECONDS
until curl -fsS "http://127.0.0.1:$port/ready" >"$WORKDIR/ready.json" 2>/dev/null; do
  if [[ "$(podman inspect --format '{{.State.Running}}' "$API_CONTAINER")" != true ]]; then
    podman logs "$API_CONTAINER" | tail -n 40
    fail "the API container exited"
  fi
  (( SECONDS - started < 300 )) || { podman logs "$API_CONTAINER" | tail -n 40; fail "/ready timed out"; }
  sleep 2
done
printf '    /ready after %ss: %s\n' $((SECONDS - started)) "$(cat "$WORKDIR/ready.json")"
podman healthcheck run "$API_CONTAINER" 2>/dev/null && echo "    HEALTHCHECK passed"
podman stop --time 10 "$API_CONTAINER" >/dev/null

log "running $API_IMAGE as the lexical index server (the operator's command and settings)"
index_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
index_token=$(python3 -c 'import secrets; print(secrets.token_urlsafe(32))')
podman run -d --network host --name "$INDEX_CONTAINER" --read-only --tmpfs /index \
  -e RAGKUBE_ENV=production -e INDEX_HOST=127.0.0.1 -e INDEX_PORT="$index_port" \
  -e INDEX_DATA_DIR=/index -e INDEX_AUTH_TOKEN="$index_token" \
  --entrypoint python "$API_IMAGE" -m ragkube_index >/dev/null
started=$SECONDS
until curl -fsS "http://127.0.0.1:$index_port/ready" >/dev/null 2>&1; do
  if [[ "$(podman inspect --format '{{.State.Running}}' "$INDEX_CONTAINER")" != true ]]; then
    podman logs "$INDEX_CONTAINER" | tail -n 40
    fail "the index server container exited"
  fi
  (( SECONDS - started < 120 )) || { podman logs "$INDEX_CONTAINER" | tail -n 40; fail "index /ready timed out"; }
  sleep 1
done
search="http://127.0.0.1:$index_port/v1/collections/smoke/search"
unauthenticated=$(curl -s -o /dev/null -w '%{http_code}' -X POST "$search" -d '{"query": "x", "k": 1}')
[[ "$unauthenticated" == 401 ]] || fail "the index server answered $unauthenticated without a token"
curl -fsS -X POST "$search" -H "Authorization: Bearer $index_token" \
  -H 'Content-Type: application/json' -d '{"query": "x", "k": 1}' >/dev/null \
  || fail "the index server refused its own token"
printf '    index server ready after %ss, read-only root, 401 without its token\n' $((SECONDS - started))
podman stop --time 10 "$INDEX_CONTAINER" >/dev/null

log "running $OPERATOR_IMAGE's entrypoint with --help"
podman run --rm --network host "$OPERATOR_IMAGE" --help | head -n 5
podman run --rm --network host --entrypoint python3 "$OPERATOR_IMAGE" \
  -c 'import ragkube_operator.main; print("    operator handlers import")'

log "image sizes"
for image in "$API_IMAGE" "$OPERATOR_IMAGE"; do
  size=$(podman image inspect --format '{{.Size}}' "$image")
  printf '    %-36s %s MB\n' "$image" $((size / 1000 / 1000))
done
