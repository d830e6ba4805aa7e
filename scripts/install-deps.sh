#!/usr/bin/env bash
# Installs every Debian 12 package mailsec needs to build, run and test. Idempotent; run as root.
# It never configures the system's own Postfix: the sample and the tests run private instances.
set -euo pipefail

packages=(
  # build
  build-essential cmake pkg-config git clang-format
  libssl-dev libmilter-dev prometheus-cpp-dev libyaml-cpp-dev
  # SPF/DMARC verification (issue 4): the resolver, its root trust anchor, the public suffix list
  libunbound-dev libspf2-dev libopendmarc-dev dns-root-data publicsuffix
  # the history store (issue 7): SQLite; peer domains use publicsuffix (above)
  libsqlite3-dev
  # DKIM verification (issue 4)
  libopendkim-dev
  # mailsec-report --month (issue 8): JSON (jsoncpp), HTTP to a Prometheus (libcurl)
  libjsoncpp-dev libcurl4-openssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev googletest libbenchmark-dev clang libclang-rt-14-dev
  python3 openssl curl iproute2 procps psmisc
  # instructions per message (tests/bench/milter_protocol_cost.py callgrind)
  valgrind
  # the peers mailsec-milter is benchmarked against (tests/bench/postfix_peers_throughput.py):
  # Debian's OpenDKIM and OpenDMARC milters; util-linux's unshare gives the benchmark its own
  # network and mount namespaces
  opendkim opendmarc util-linux
  # promtool test rules and the end-to-end alert test (a real Prometheus)
  prometheus
  # the Debian package (scripts/build-deb.sh, scripts/test-deb.sh): Debian's build tools,
  # scdoc for the man pages, lintian, and systemd-analyze to verify the units offline
  debhelper devscripts lintian dpkg-dev fakeroot scdoc systemd
  # the real MTA and SMTP clients the integration tests drive
  postfix swaks libnet-ssleay-perl libio-socket-ssl-perl
  # Sendmail for the integration tests is never installed (it conflicts with postfix): the
  # harness fetches sendmail-bin, -cf and -base with apt-get download and unpacks them with
  # dpkg -x. These are what that Sendmail needs to build its sendmail.cf and to run.
  m4 libwrap0 libdb5.3 libldap-2.5-0 libnsl2 libsasl2-2
  # Exim 4.96 for tests/data/received/generate-exim.sh, likewise only unpacked (dpkg -x):
  # the one library of exim4-daemon-light that is not already here
  libidn12
  # the SPF/DKIM/DMARC test world (tests/integration/harness/dns.py, authworld/): an
  # authoritative DNS server, zone signing, and the independent verifiers (run under
  # /usr/bin/python3); unbound-host checks what a validating resolver makes of the zones
  nsd ldnsutils unbound-host python3-dkim python3-nacl python3-spf python3-dnspython
  # the monthly report rendered in headless Chromium, its screenshot checked with Pillow
  # (tests/integration/test_adoption_report.py, under /usr/bin/python3)
  chromium python3-pil
)

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: run as root (apt-get needs it)" >&2
  exit 1
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

# Postfix must not ask questions, and must not be given a system-wide configuration by us.
echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: installed ${#missing[@]} packages"
