#!/usr/bin/env bash
# Builds the Debian package (scripts/build-deb.sh: dpkg-buildpackage, lintian without errors)
# and proves it: tests/integration/test_debian_package.py installs it with dpkg -i, checks its
# files and units (systemd-analyze verify and security, offline), runs the installed daemons
# as the mailsec user against a private Postfix configured from the packaged snippets, scrapes
# /metrics, stops them, and purges the package (no process, no file left). Run as root, after
# scripts/install-deps.sh. Leaves the system's own Postfix alone; the .deb stays in
# /var/tmp/mailsec-deb/out.
#   scripts/test-deb.sh            build, then test
#   MAILSEC_DEB=FILE scripts/test-deb.sh   test that package instead of building one
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
deb=${MAILSEC_DEB:-}
if [ -z "$deb" ]; then
  deb=$(bash scripts/build-deb.sh | tail -1)
fi
echo "test-deb: package $deb"
tmp=${MAILSEC_TEST_TMP:-/var/tmp/mailsec-deb/it}
mkdir -p "$tmp"
cd tests/integration
MAILSEC_DEB="$deb" MAILSEC_DEB_REQUIRED=1 MAILSEC_TEST_TMP="$tmp" PYTHONDONTWRITEBYTECODE=1 \
  python3 -m unittest -v test_debian_package
echo "test-deb: done in $(( $(date +%s) - start )) s"
