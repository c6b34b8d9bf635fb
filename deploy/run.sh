#!/usr/bin/env bash
# One command to run the service: installs what is missing, builds, and starts
# attributiond on 127.0.0.1:50051 with its data in ./attribution-data (the
# repository root). Extra arguments go to attributiond, e.g. --listen=...
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh
exec "${BUILD_DIR:-build}/service/server/attributiond" "$@"
