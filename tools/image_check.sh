#!/usr/bin/env bash
# Builds the container image from ./Dockerfile with a binary built outside
# it, starts it, and checks /readyz, one API call and the image's own
# HEALTHCHECK. Offline: the Debian base comes from debootstrap (Debian's
# packages), the daemon is Debian's docker.io, so no registry is needed.
#
#   tools/image_check.sh path/to/fairgig
set -euo pipefail
binary="$1"
root="$(cd "$(dirname "$0")/.." && pwd)"
port="${FAIRGIG_IMAGE_PORT:-18080}"

if ! docker info >/dev/null 2>&1; then
  echo "starting dockerd (vfs storage, host network only)"
  dockerd --iptables=false --ip6tables=false --bridge=none --storage-driver=vfs \
    >/tmp/fairgig-dockerd.log 2>&1 &
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
  docker info >/dev/null
fi

# The Dockerfile's bases, made locally from Debian's packages: the runtime's
# slim base, which also stands in for the Rust image (a prebuilt binary
# needs no compiler).
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
  rootfs="$(mktemp -d)"
  debootstrap --variant=minbase bookworm "$rootfs" http://deb.debian.org/debian >/tmp/fairgig-debootstrap.log
  chmod 755 "$rootfs" # mktemp's 0700 would become the image's / and lock out non-root users
  tar -C "$rootfs" -c . | docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
  rm -rf "$rootfs"
fi

context="$(mktemp -d)"
container=""
cleanup() {
  [ -n "$container" ] && docker rm -f "$container" >/dev/null 2>&1 || true
  rm -rf "$context"
}
trap cleanup EXIT
cp "$root/Dockerfile" "$context/"
objcopy --strip-debug "$binary" "$context/fairgig"
mkdir -p "$context/models"
docker build --quiet --network host \
  --build-arg RUST_IMAGE=debian:bookworm-slim --build-arg PREBUILT=fairgig \
  -t fairgig:image-check "$context" >/dev/null

# Configuration by environment only; no models mounted, so the providers
# that need none.
container="$(docker run -d --network host \
  -e FAIRGIG_SERVER__BIND="127.0.0.1:$port" \
  -e FAIRGIG_EMBEDDING__PROVIDER=hashing -e FAIRGIG_LLM__PROVIDER=off \
  -e FAIRGIG_TRANSCRIPTION__PROVIDER=off \
  fairgig:image-check)"

user="$(docker inspect --format '{{.Config.User}}' "$container")"
[ "$user" = "10001:10001" ] || { echo "FAIL: the image runs as '$user', not 10001"; exit 1; }

probe() { docker exec "$container" fairgig probe; }
for _ in $(seq 1 60); do probe 2>/dev/null && break; sleep 1; done
probe || { docker logs "$container" | tail -20; echo "FAIL: /readyz"; exit 1; }

answer="$(mktemp)"
status="$(curl -s -o "$answer" -w '%{http_code}' -H 'content-type: application/json' \
  -d '{"email":"operator@example.org","display_name":"Container Check","password":"correct horse battery staple 42","role":"client"}' \
  "http://127.0.0.1:$port/api/v1/auth/register")"
[ "$status" = 201 ] || { echo "FAIL: register answered $status: $(cat "$answer")"; exit 1; }

# The image's HEALTHCHECK (fairgig probe, every 15 s) reports healthy.
health=""
for _ in $(seq 1 60); do
  health="$(docker inspect --format '{{.State.Health.Status}}' "$container")"
  [ "$health" = healthy ] && break
  sleep 1
done
[ "$health" = healthy ] || { echo "FAIL: health is '$health'"; exit 1; }
echo "image ok: non-root, /readyz 200, register 201, HEALTHCHECK healthy"
