#!/usr/bin/env bash
# One command to run the service: installs what is missing, builds, and starts
# attributiond on 127.0.0.1:50051 with its data in ./attribution-data (the
# repository root), in local development mode: plaintext on loopback and
# authentication off, which the server says in its log. Extra arguments go to
# attributiond and win, e.g. --auth=keys --api_keys_file=keys.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
deploy/build.sh
exec "${BUILD_DIR:-build}/service/server/attributiond" --auth=off "$@"
