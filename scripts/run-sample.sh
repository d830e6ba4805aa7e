#!/usr/bin/env bash
# One command from a fresh Debian 12 machine to a measuring milter: installs the packages,
# builds, then starts a private Postfix on 127.0.0.1:2525 wired to mailsec-milter (the sample
# config, config/mailsec.yaml, with its ports), sends a few sample messages (cleartext,
# STARTTLS TLS 1.2 and TLS 1.3), and serves the counts on http://127.0.0.1:9700/metrics until
# Ctrl-C. Run as root (apt-get and Postfix's master need it). Your system's Postfix is not
# touched. --once exits after printing the metrics.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
cmake -S . -B build -DMAILSEC_BUILD_TESTS=ON >/dev/null
cmake --build build -j"$(nproc)" --target mailsec-milter
exec python3 scripts/sample.py --build build "$@"
