#!/usr/bin/env bash
# Builds the container image from deploy/container/Containerfile with podman
# and tests it: non-root user, data volume and health check in the image;
# the server in a container answers /healthz, its health check, an import
# and a query, and stops cleanly. Its own command (not in the suite): the
# image build compiles the project, a few minutes.
#   deploy/container/build-and-test.sh        (from the clone, after deploy/build.sh)
#
# No image registry is reachable from the build machines, so the debian:12
# base is made here with debootstrap and imported as localhost/debian:12. With
# a registry, build with the default BASE (docker.io/library/debian:12):
#   podman build --format docker -f deploy/container/Containerfile -t attributiond:0.1.0 .
#
# This sandbox needs three work-arounds, all in PODMAN: RUN steps with
# --isolation chroot; runc with cgroupfs for `run` (crun refuses the hybrid
# cgroups here); nofile and nproc ulimits within the hard limits.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD_DIR=${BUILD_DIR:-build}
version=$("$BUILD_DIR/service/server/attributiond" --version | awk '{print $2}')
image="attributiond:$version"
PODMAN=${PODMAN:-"podman --runtime runc --cgroup-manager=cgroupfs"}
LIMITS="--ulimit nofile=$(ulimit -Hn):$(ulimit -Hn) --ulimit nproc=4096:4096"
fail() { echo "container: FAIL: $*" >&2; exit 1; }

need=()
for p in podman buildah debootstrap runc curl; do
  command -v "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing ${need[*]}; as root run: apt-get install ${need[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}"
fi

if ! $PODMAN image exists localhost/debian:12; then
  root=$(mktemp -d)
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >/dev/null
  tar -C "$root" -c . | $PODMAN import - localhost/debian:12 >/dev/null
  rm -rf "$root"
fi

start=$(date +%s)
$PODMAN build --format docker --isolation chroot --network host $LIMITS --build-arg BASE=localhost/debian:12 \
  -f deploy/container/Containerfile -t "$image" . > /tmp/attributiond-image-build.log 2>&1 \
  || fail "build: $(tail -20 /tmp/attributiond-image-build.log)"
echo "container: built $image in $(( $(date +%s) - start )) s ($($PODMAN image inspect "$image" --format '{{.Size}}' | awk '{printf "%.0f MB", $1/1e6}'))"

user=$($PODMAN image inspect "$image" --format '{{.Config.User}}')
[ "$user" = "10001:10001" ] || fail "image user is '$user', not 10001:10001"
$PODMAN image inspect "$image" --format '{{json .Config.Volumes}}' | grep -q /var/lib/attributiond \
  || fail "no data volume"
$PODMAN image inspect "$image" --format '{{json .Config.Healthcheck}}' | grep -q healthz \
  || fail "no health check"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
# The image's health check asks the admin endpoint's default port.
admin=9464
python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 9464))' 2>/dev/null \
  || fail "port 9464 (the health check's) is taken on this machine"
name="attributiond-test-$$"
volume="attributiond-test-data-$$"
trap '$PODMAN rm -f "$name" >/dev/null 2>&1 || true; $PODMAN volume rm -f "$volume" >/dev/null 2>&1 || true' EXIT
# Loopback on the host's network (this sandbox has no other), so plaintext
# and no key are allowed.
# (Without systemd podman cannot schedule the health check, and says so;
# `podman healthcheck run` below runs it.)
$PODMAN run -d --name "$name" --network host $LIMITS -v "$volume:/var/lib/attributiond" "$image" \
  --listen=127.0.0.1:$port --admin_listen=127.0.0.1:$admin --auth=off > /dev/null 2>/tmp/podman-run-$$.log
for _ in $(seq 100); do curl -fsS "http://127.0.0.1:$admin/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "http://127.0.0.1:$admin/healthz" > /dev/null || fail "no /healthz: $($PODMAN logs "$name" 2>&1 | tail -5)"
$PODMAN healthcheck run "$name" > /dev/null 2>&1 || fail "the image's health check failed"
echo "container: /healthz and /readyz answer, the health check passes"

ctl="$BUILD_DIR/clients/cli/attributionctl --server=127.0.0.1:$port --workspace=shop"
python3 tests/tools/gen_events.py --events 20000 --customers 2000 --out "/tmp/container-events-$$.csv"
$ctl --format=json import events "/tmp/container-events-$$.csv" | grep -q '"stored":20000' \
  || fail "the import did not store 20000 events"
rm -f "/tmp/container-events-$$.csv"
$ctl --format=csv attribute --start 2025-01-01 --end 2026-01-01 --model linear,shapley > /tmp/container-credits-$$.csv
rows=$(($(wc -l < /tmp/container-credits-$$.csv) - 1)); rm -f /tmp/container-credits-$$.csv
[ "$rows" -gt 10 ] || fail "attribute gave $rows rows"
inside=$($PODMAN exec "$name" attributionctl --server=127.0.0.1:$port --format=json server-info)
grep -q "\"version\":\"$version\"" <<< "$inside" || fail "server-info inside: $inside"
echo "container: imported 20000 events, attributed them ($rows credit rows), server-info from inside"

$PODMAN stop -t 30 "$name" > /dev/null 2>&1
code=$($PODMAN inspect "$name" --format '{{.State.ExitCode}}')
[ "$code" = "0" ] || fail "the server exited $code on stop"
$PODMAN logs "$name" 2>&1 | grep -q "stopped cleanly" || fail "no clean stop in the logs"
echo "container: stopped cleanly (exit 0); ok"
