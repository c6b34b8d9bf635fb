#!/usr/bin/env bash
# deploy/systemd/attributiond.service passes `systemd-analyze verify` (with
# ExecStart pointed at the build's binary, since it is not installed here),
# keeps its hardening, and the server starts from deploy/attributiond.conf
# and drains on SIGTERM (exit 0) as the unit's KillSignal expects.
#   tests/deploy/systemd_test.sh ATTRIBUTIOND
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
server="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
tmp=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
pid=""
fail() { echo "FAIL: $*" >&2; exit 1; }

unit="$tmp/attributiond.service"
sed "s|^ExecStart=/usr/bin/attributiond|ExecStart=$server|" \
  "$root/deploy/systemd/attributiond.service" > "$unit"
out=$(systemd-analyze verify "$unit" 2>&1) || fail "systemd-analyze verify: $out"
[ -z "$out" ] || fail "systemd-analyze verify said: $out"
for want in DynamicUser=yes StateDirectory=attributiond ProtectSystem=strict \
    NoNewPrivileges=yes Restart=on-failure TimeoutStopSec=30 KillSignal=SIGTERM \
    "ExecStart=$server --config /etc/attributiond/attributiond.conf"; do
  grep -qx -- "$want" "$unit" || fail "the unit lacks $want"
done
score=$(systemd-analyze security --offline=true "$unit" 2>&1 | grep -o "Overall exposure level for attributiond.service: [0-9.]*" || true)
echo "systemd-analyze verify: ok; ${score:-security: not reported}"

# The default config, its paths moved to a temp folder.
: > "$tmp/api_keys"
"$server" --config "$root/deploy/attributiond.conf" --listen=127.0.0.1:0 --admin_listen=127.0.0.1:0 \
  --data_dir="$tmp/data" --api_keys_file="$tmp/api_keys" \
  --backup_root="$tmp/backups" > "$tmp/out" 2> "$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" && break; sleep 0.05; done
grep -q "listening on 127.0.0.1:" "$tmp/out" || fail "did not start: $(cat "$tmp/err")"
grep -q "API keys required" "$tmp/err" || fail "auth is not on keys: $(cat "$tmp/err")"
kill -TERM "$pid"
wait "$pid" || fail "SIGTERM: exit $?"
pid=""
echo "config: started from deploy/attributiond.conf, drained on SIGTERM (exit 0)"
