#!/usr/bin/env bash
# Installs what the build and the tests need from Debian 12's packages, if it
# is missing. Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(
  g++ cmake ninja-build pkg-config dpkg-dev
  libgrpc++-dev libgrpc-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  librocksdb-dev libabsl-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-grpcio python3-protobuf python3-pytest
  python3-pandas python3-pip python3-setuptools python3-wheel python3-venv
  systemd prometheus-cpp-dev libcivetweb-dev python3-yaml kubernetes-client
  openssl
  nodejs npm chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  # Any kubectl will do (another package may provide one: installing
  # Debian's beside it would conflict).
  if [ "$p" = kubernetes-client ] && command -v kubectl >/dev/null 2>&1; then
    continue
  fi
  # Likewise any Node.js with npm (the build's `npm ci` for the executive
  # page's chart library): another package may provide them.
  if { [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; } ||
     { [ "$p" = npm ] && command -v npm >/dev/null 2>&1; }; then
    continue
  fi
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}" >&2
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if ! command -v sudo >/dev/null 2>&1; then
    # Not root and no sudo: say exactly what to run as root, then stop.
    echo "install-deps: missing packages and no sudo; as root, run:" >&2
    echo "  apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
  SUDO=sudo
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
