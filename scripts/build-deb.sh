#!/usr/bin/env bash
# Builds the mailsec Debian package with Debian's own tools (dpkg-buildpackage, debhelper) in
# a scratch copy of the tree, and runs lintian on it. The repository is left untouched.
#   scripts/build-deb.sh [OUTDIR]     the .deb (and .buildinfo, .changes) land in OUTDIR
#                                     (default /var/tmp/mailsec-deb/out); prints the .deb path
#                                     as its last line
# The copy holds the files git knows (tracked, and untracked but not ignored: what a developer
# builds), with packaging/debian as debian/. MAILSEC_DEB_FROM=head copies the last commit
# instead (git archive HEAD). MAILSEC_DEB_SCRATCH (default /var/tmp/mailsec-deb) is where it
# builds; MAILSEC_DEB_JOBS (default 2) the parallel jobs. Needs scripts/install-deps.sh.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
scratch=${MAILSEC_DEB_SCRATCH:-/var/tmp/mailsec-deb}
out=${1:-$scratch/out}
jobs=${MAILSEC_DEB_JOBS:-2}
src=$scratch/mailsec

rm -rf "$src"
mkdir -p "$src" "$out"
if [ "${MAILSEC_DEB_FROM:-worktree}" = head ]; then
  git -C "$repo" archive --format=tar HEAD | tar -x -C "$src"
else
  (cd "$repo" && git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf -) | tar -x -C "$src"
fi
rm -rf "$src/debian"
cp -a "$src/packaging/debian" "$src/debian"

cd "$src"
dpkg-checkbuilddeps
start=$(date +%s)
# The artefacts go to $src/.. (dpkg-buildpackage's choice); move them to OUTDIR afterwards.
dpkg-buildpackage -us -uc -b -j"$jobs" >"$scratch/build.log" 2>&1 || {
  tail -40 "$scratch/build.log" >&2
  echo "build-deb: dpkg-buildpackage failed; full log: $scratch/build.log" >&2
  exit 1
}
echo "build-deb: dpkg-buildpackage took $(( $(date +%s) - start )) s (log: $scratch/build.log)" >&2

changes=$(ls -t "$scratch"/mailsec_*.changes | head -1)
deb=$(ls -t "$scratch"/mailsec_*.deb | head -1)
# lintian: errors fail the build; warnings and informational tags are printed.
lintian --fail-on error --display-info "$changes" >&2
# The package, its -dbgsym companion and the .changes/.buildinfo that list both.
mv -f "$scratch"/mailsec_*.deb "$scratch"/mailsec-dbgsym_*.deb "$scratch"/mailsec_*.changes \
  "$scratch"/mailsec_*.buildinfo "$out"/ 2>/dev/null || true
rm -rf "$src"
echo "$out/$(basename "$deb")"
