#!/usr/bin/env bash
# Prometheus for real: starts attributiond (from build/) on a temp folder,
# imports generated events, starts Debian's prometheus on loopback scraping
# the admin endpoint every second, and prints the series Prometheus holds
# after the import. Exits non-zero if a series is missing or wrong.
#   deploy/check-prometheus.sh          (after deploy/build.sh)
# Installs the prometheus package if it is missing (as install-deps does).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
if ! command -v prometheus >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  elif command -v sudo >/dev/null 2>&1; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus
  else
    echo "check-prometheus: prometheus is missing; as root run: apt-get install prometheus" >&2
    exit 1
  fi
fi
tmp=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "check-prometheus: FAIL: $*" >&2; exit 1; }

"$BUILD_DIR/service/server/attributiond" --auth=off --listen=127.0.0.1:0 \
  --admin_listen=127.0.0.1:0 --data_dir="$tmp/db" > "$tmp/server.out" 2> "$tmp/server.err" &
pids+=($!)
for _ in $(seq 100); do grep -q "listening on" "$tmp/server.out" && break; sleep 0.05; done
address=$(awk '/listening on/ {print $NF}' "$tmp/server.out")
admin=$(grep -o "admin endpoint (metrics, healthz, readyz) on [0-9.:]*" "$tmp/server.err" | awk '{print $NF}')
[ -n "$address" ] && [ -n "$admin" ] || fail "the server did not start: $(cat "$tmp/server.err")"

python3 tests/tools/gen_events.py --events 20000 --customers 2000 --out "$tmp/events.csv"
"$BUILD_DIR/clients/cli/attributionctl" --server="$address" --workspace=shop \
  import events "$tmp/events.csv" > /dev/null

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cat > "$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: attributiond
    static_configs:
      - targets: ["$admin"]
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$port" > "$tmp/prometheus.log" 2>&1 &
pids+=($!)

query() {
  python3 - "$port" "$1" <<'EOF'
import json, sys, urllib.parse, urllib.request
port, q = sys.argv[1], sys.argv[2]
url = "http://127.0.0.1:%s/api/v1/query?query=%s" % (port, urllib.parse.quote(q))
try:
    r = json.load(urllib.request.urlopen(url, timeout=2))
except Exception:
    sys.exit(1)
for s in r["data"]["result"]:
    labels = ",".join("%s=%s" % kv for kv in sorted(s["metric"].items()) if kv[0] != "__name__")
    print("%s{%s} %s" % (s["metric"].get("__name__", q), labels, s["value"][1]))
EOF
}
stored=""
for _ in $(seq 60); do
  stored=$(query 'attributiond_events_total{result="stored"}' 2>/dev/null || true)
  [ -n "$stored" ] && break
  sleep 0.5
done
[ -n "$stored" ] || fail "Prometheus holds no attributiond_events_total: $(tail -5 "$tmp/prometheus.log")"
echo "$stored"
[ "${stored##* }" = "20000" ] || fail "stored events: $stored"
query 'up{job="attributiond"}'
for series in attributiond_requests_total attributiond_request_duration_seconds_count \
    'attributiond_index_events{workspace="shop"}' attributiond_ready \
    attributiond_rocksdb_memtable_bytes attributiond_resident_memory_bytes; do
  got=$(query "$series")
  [ -n "$got" ] || fail "no $series"
  echo "$got"
done
echo "check-prometheus: ok (prometheus $(prometheus --version 2>&1 | head -1 | awk '{print $3}') scraped $admin)"
