#!/usr/bin/env bash
# Builds mailsec (warnings are errors) and runs every test: unit tests, then the integration
# tests against a real Postfix (those need root and scripts/install-deps.sh).
#   scripts/test.sh                 everything
#   scripts/test.sh -L unit         only unit tests (any ctest arguments pass through)
# MAILSEC_BUILD=dir picks the build directory (default build); MAILSEC_SANITIZE=address,undefined
# builds with sanitizers.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${MAILSEC_BUILD:-build}
cmake -S . -B "$build" -DMAILSEC_WERROR=ON -DMAILSEC_SANITIZE="${MAILSEC_SANITIZE:-}" >/dev/null
cmake --build "$build" -j"$(nproc)"
ctest --test-dir "$build" --output-on-failure "$@"
