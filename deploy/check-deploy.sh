#!/usr/bin/env bash
# The deploy checks in one command (after deploy/build.sh): the systemd unit
# (systemd-analyze verify, the default config, SIGTERM drain), the
# Kubernetes manifests (kubectl kustomize and their coherence), the Debian
# package (contents, Depends, its server and client), Prometheus scraping a
# real server, and the container image (built with podman and run; about 2
# minutes). The first three are in the suite too.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
server="$(cd "$BUILD_DIR" && pwd)/service/server/attributiond"
version=$("$server" --version | awk '{print $2}')
echo "== systemd";    bash tests/deploy/systemd_test.sh "$server"
echo "== kubernetes"; /usr/bin/python3 tests/deploy/kubernetes_test.py "$server"
echo "== package";    bash tests/deploy/package_test.sh "$BUILD_DIR" "$version"
echo "== prometheus"; deploy/check-prometheus.sh | tail -1
echo "== container";  deploy/container/build-and-test.sh
echo "check-deploy: all passed"
