#!/usr/bin/env bash
# Writes generated/exim-4.96-*.txt: the Received headers Debian 12's own Exim 4.96
# (exim4-daemon-light, GnuTLS) writes for a swaks client over TLS 1.3, TLS 1.2 and cleartext.
# Exim is never installed: its package is unpacked with dpkg -x into a build directory and run
# from there on a loopback port, in a private mount namespace whose /etc/passwd and /etc/group
# add the compiled-in Debian-exim user (mapped to nobody) — the host's files are untouched.
# Messages are only received, never delivered: each header is read from Exim's spool.
# Needs root, swaks, openssl and libidn12 (scripts/install-deps.sh).
#   tests/data/received/generate-exim.sh [BUILD_DIR]      (default: build)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../../../build}" && pwd)
prefix=$build/exim-prefix
if [ ! -x "$prefix/root/usr/sbin/exim4" ]; then
  mkdir -p "$prefix/debs"
  (cd "$prefix/debs" && apt-get download exim4-daemon-light >/dev/null)
  dpkg -x "$prefix"/debs/exim4-daemon-light_*.deb "$prefix/root"
fi
work=$(mktemp -d "$build/exim-generate.XXXXXX")
chmod 755 "$work"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$work"/{spool,log,pki}
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$work/pki/key.pem" -out "$work/pki/cert.pem" \
  -days 2 -subj /CN=exim.mailsec.test 2>/dev/null
chown -R nobody:nogroup "$work"/{spool,log,pki}
{ cat /etc/passwd; echo "Debian-exim:x:65534:65534:mailsec test:/nonexistent:/usr/sbin/nologin"; } \
  > "$work/passwd"
{ cat /etc/group; echo "Debian-exim:x:65534:"; } > "$work/group"
cat > "$work/exim.conf" <<EOF
primary_hostname = exim.mailsec.test
spool_directory = $work/spool
log_file_path = $work/log/%slog
daemon_smtp_ports = $port
local_interfaces = 127.0.0.1
tls_advertise_hosts = *
tls_certificate = $work/pki/cert.pem
tls_privatekey = $work/pki/key.pem
acl_smtp_rcpt = accept_all
host_lookup =
rfc1413_hosts =
queue_only = true
begin acl
accept_all:
  accept
EOF
unshare --mount --propagation private sh -c \
  "mount --bind $work/passwd /etc/passwd && mount --bind $work/group /etc/group && \
   exec $prefix/root/usr/sbin/exim4 -C $work/exim.conf -bdf" > "$work/exim.out" 2>&1 &
exim_pid=$!
trap 'kill "$exim_pid" 2>/dev/null || true; wait "$exim_pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 50); do
  (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done

send() {  # name, swaks TLS arguments...
  local name=$1
  shift
  swaks --server "127.0.0.1:$port" --to user@relay.test --from sender@example.org \
    --ehlo client.mailsec.test "$@" >"$work/swaks-$name.out" 2>&1
  local id
  id=$(sed -n 's/.*250 OK id=\([^ ]*\).*/\1/p' "$work/swaks-$name.out")
  # Spool header lines are "NNNx Name: value"; continuation lines follow as written.
  awk '/^[0-9]+[A-Za-z* ] Received:/ {on=1; sub(/^[0-9]+[A-Za-z* ] /, ""); print; next}
       on && /^[ \t]/ {print; next} {on=0}' "$work/spool/input/$id-H" \
    > "$here/generated/exim-4.96-$name.txt"
  echo "generated/exim-4.96-$name.txt"
}
send tls13-gnutls --tls
send tls12-gnutls --tls --tls-protocol tlsv1_2 --tls-cipher ECDHE-RSA-AES128-GCM-SHA256
send cleartext
