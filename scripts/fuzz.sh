#!/usr/bin/env bash
# Builds every libFuzzer target with clang under ASan+UBSan and runs each for a bounded time,
# starting from its checked-in corpus (tests/fuzz/corpus/NAME). New inputs go to a scratch
# directory, never into the repository; a crash fails the run and leaves its input in
# $MAILSEC_BUILD_FUZZ/crashes/NAME for a test case.
#   scripts/fuzz.sh                       every target, MAILSEC_FUZZ_SECONDS (default 60) each
#   scripts/fuzz.sh received_parser       only the named targets
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MAILSEC_BUILD_FUZZ:-build-fuzz}
seconds=${MAILSEC_FUZZ_SECONDS:-60}
CC=clang CXX=clang++ cmake -S . -B "$build" -DMAILSEC_BUILD_FUZZERS=ON \
  -DMAILSEC_SANITIZE=address,undefined -DMAILSEC_BUILD_BENCH=OFF -DMAILSEC_WERROR=ON >/dev/null
mapfile -t all < <(grep -v '^$' "$build/fuzzers.txt" || true)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")
if [ ${#targets[@]} -eq 0 ]; then
  echo "fuzz: no fuzz targets are defined" >&2
  exit 1
fi
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/%/_fuzzer}"
failed=0
for t in "${targets[@]}"; do
  scratch=$(mktemp -d)
  mkdir -p "$build/crashes/$t"
  echo "fuzz: $t for ${seconds}s"
  if ! "$build/tests/fuzz/${t}_fuzzer" -max_total_time="$seconds" -rss_limit_mb=2048 \
      -artifact_prefix="$build/crashes/$t/" -print_final_stats=1 \
      "$scratch" "tests/fuzz/corpus/$t" > "$build/crashes/$t.log" 2>&1; then
    echo "fuzz: $t FAILED; see $build/crashes/$t.log and $build/crashes/$t/" >&2
    tail -n 40 "$build/crashes/$t.log" >&2
    failed=1
  else
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb)' "$build/crashes/$t.log" |
      sed "s/^/fuzz: $t /"
  fi
  rm -rf "$scratch"
done
exit $failed
