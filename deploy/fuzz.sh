#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (AddressSanitizer and
# UndefinedBehaviorSanitizer on) into build-fuzz/ and runs each for a fixed
# number of iterations (default 1,000,000; FUZZ_RUNS to change; FUZZ_TARGETS
# to run only some), starting from the seeds in tests/fuzz/corpus/<target>
# (made by tests/fuzz/make_corpus.py). Exits non-zero on the first crash,
# leak or sanitizer report.
set -euo pipefail
cd "$(dirname "$0")/.."
deploy/install-deps.sh
missing=()
for p in clang-14 libclang-rt-14-dev; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
BUILD_DIR=${BUILD_DIR:-build-fuzz}
RUNS=${FUZZ_RUNS:-1000000}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_COMPILER=clang++-14 -DATTRIBUTION_FUZZ=ON -DBUILD_TESTING=OFF \
  -DCMAKE_CXX_FLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" >/dev/null
TARGETS=(${FUZZ_TARGETS:-validation csv jsonl event_file key_codec grpc_handlers key_file page_token})
cmake --build "$BUILD_DIR" --parallel "$(nproc)" --target \
  $(printf '%s_fuzz ' "${TARGETS[@]}")
for t in "${TARGETS[@]}"; do
  echo "== ${t}_fuzz: $RUNS runs"
  corpus="$BUILD_DIR/corpus/$t"
  log="$BUILD_DIR/${t}_fuzz.log"
  mkdir -p "$corpus"
  set +e
  # The working corpus first (libFuzzer adds to it), then the kept seeds.
  seeds=()
  [ -d "tests/fuzz/corpus/$t" ] && seeds=("tests/fuzz/corpus/$t")
  "$BUILD_DIR/tests/fuzz/${t}_fuzz" -runs="$RUNS" -max_len=4096 \
    -print_final_stats=1 "$corpus" "${seeds[@]}" >"$log" 2>&1
  rc=$?
  set -e
  grep -E "^(#[0-9]+ +DONE|Done [0-9]+ runs|stat::number_of_executed_units|stat::peak_rss_mb)" "$log" || true
  if [ "$rc" -ne 0 ]; then
    tail -40 "$log"
    echo "fuzz: ${t}_fuzz failed (exit $rc); see $log"
    exit 1
  fi
done
echo "fuzz: every target ran $RUNS iterations with no crash, leak or sanitizer report"
