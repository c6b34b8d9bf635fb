#!/usr/bin/env bash
# The Debian package: `cmake --build BUILD --target package` makes it; it
# holds the binaries, the unit, the config (a conffile), the Python client
# with its stubs and the README; it depends on the libraries the binaries
# link; and what it unpacks runs: the server from it answers the Python
# client from it.
#   tests/deploy/package_test.sh BUILD_DIR VERSION
set -euo pipefail
build="$1"
version="$2"
tmp=$(mktemp -d)
pid=""
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

cmake --build "$build" --target package > "$tmp/cpack.log" 2>&1 \
  || fail "cpack: $(tail -5 "$tmp/cpack.log")"
deb="$build/attribution_${version}_amd64.deb"
[ -f "$deb" ] || fail "no $deb"
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in ./usr/bin/attributiond ./usr/bin/attributionctl \
    ./usr/lib/systemd/system/attributiond.service \
    ./etc/attributiond/attributiond.conf \
    ./usr/lib/python3/dist-packages/attribution_client/client.py \
    ./usr/lib/python3/dist-packages/attribution/v1/attribution_service_pb2.py \
    ./usr/share/doc/attribution/README.md; do
  grep -qx -- "$f" <<< "$files" || fail "the package lacks $f"
done
depends=$(dpkg-deb -f "$deb" Depends)
for d in librocksdb libgrpc++ libprometheus-cpp-pull python3-grpcio python3-protobuf; do
  grep -q "$d" <<< "$depends" || fail "Depends lacks $d: $depends"
done
dpkg-deb -e "$deb" "$tmp/control"
grep -qx /etc/attributiond/attributiond.conf "$tmp/control/conffiles" \
  || fail "the config is not a conffile"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "version"

dpkg-deb -x "$deb" "$tmp/root"
got=$("$tmp/root/usr/bin/attributiond" --version)
[ "${got#"attributiond $version ("}" != "$got" ] || fail "attributiond --version: $got"
"$tmp/root/usr/bin/attributiond" --auth=off --listen=127.0.0.1:0 --admin_listen= \
  --data_dir="$tmp/data" > "$tmp/out" 2> "$tmp/err" &
pid=$!
for _ in $(seq 100); do grep -q "listening on" "$tmp/out" && break; sleep 0.05; done
address=$(awk '/listening on/ {print $NF}' "$tmp/out")
[ -n "$address" ] || fail "the packaged server did not start: $(cat "$tmp/err")"
reported=$(cd "$tmp" && env -u PYTHONPATH PYTHONPATH="$tmp/root/usr/lib/python3/dist-packages" \
  ATTRIBUTION_SERVER="$address" /usr/bin/python3 -c \
  'import attribution_client as a; print(a.__file__); print(a.Client().server_info()["version"])')
grep -q "^$tmp/root/usr/lib/python3/dist-packages/attribution_client/__init__.py$" <<< "$reported" \
  || fail "the Python client is not the packaged one: $reported"
[ "$(tail -1 <<< "$reported")" = "$version" ] || fail "server_info: $reported"
echo "package: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB; contents, Depends, conffiles ok; the packaged server answered the packaged client"
