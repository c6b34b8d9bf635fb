#!/usr/bin/env bash
# deploy/install-deps.sh on a machine that lacks packages, without touching
# this one: dpkg-query, id, sudo and apt-get are stand-ins on PATH (a fresh
# Debian cannot be had in the suite). Root without sudo installs directly; a
# user without sudo is told the exact apt command; nothing missing is a no-op.
set -euo pipefail
script="$(cd "$(dirname "$0")/../.." && pwd)/deploy/install-deps.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

fake() {  # fake DIR NAME BODY
  printf '#!/bin/bash\n%s\n' "$3" > "$1/$2"
  chmod +x "$1/$2"
}
base="$tmp/base"; mkdir -p "$base"
for tool in bash grep cat printf env; do ln -s "$(command -v $tool)" "$base/$tool"; done

# 1. Root, no sudo on the machine: apt-get runs directly.
root="$tmp/root"; mkdir -p "$root"
fake "$root" dpkg-query 'exit 1'                 # every package missing
fake "$root" id 'echo 0'
fake "$root" apt-get "echo \"\$*\" >> $tmp/apt.log"
PATH="$root:$base" bash "$script" 2> "$tmp/root.err" || fail "root run exited $?"
grep -q "^update -qq" "$tmp/apt.log" || fail "apt-get update not run"
grep -q "^install -y -qq --no-install-recommends .*librocksdb-dev.*python3-pandas" "$tmp/apt.log" \
  || fail "apt-get install not run with the packages: $(cat $tmp/apt.log)"
# The executive page's build (npm) and its browser test (Chromium).
grep -q "^install .* nodejs npm chromium" "$tmp/apt.log" \
  || fail "nodejs, npm and chromium not installed: $(cat $tmp/apt.log)"

# 2. A user without sudo: the exact command, exit 1, nothing run.
user="$tmp/user"; mkdir -p "$user"
fake "$user" dpkg-query 'exit 1'
fake "$user" id 'echo 1000'
fake "$user" apt-get "echo ran >> $tmp/user-apt.log"
if PATH="$user:$base" bash "$script" 2> "$tmp/user.err"; then fail "user run succeeded"; fi
grep -q "as root, run:" "$tmp/user.err" || fail "no advice: $(cat $tmp/user.err)"
grep -q "apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends g++ cmake ninja-build pkg-config dpkg-dev .*python3-venv systemd prometheus-cpp-dev libcivetweb-dev python3-yaml kubernetes-client" "$tmp/user.err" \
  || fail "not the exact command: $(cat $tmp/user.err)"
[ ! -e "$tmp/user-apt.log" ] || fail "apt-get ran without root"

# 3. A user with sudo: through sudo.
fake "$user" sudo "echo \"sudo \$*\" >> $tmp/sudo.log"
PATH="$user:$base" bash "$script" 2>/dev/null || fail "sudo run exited $?"
grep -q "^sudo apt-get update" "$tmp/sudo.log" || fail "not through sudo"

# 4. Nothing missing: nothing run.
none="$tmp/none"; mkdir -p "$none"
fake "$none" dpkg-query "echo -n 'install ok installed'"
fake "$none" id 'echo 1000'
PATH="$none:$base" bash "$script" 2> "$tmp/none.err" || fail "no-op run exited $?"
[ ! -s "$tmp/none.err" ] || fail "said something: $(cat $tmp/none.err)"
echo "install-deps: 4 cases passed"
