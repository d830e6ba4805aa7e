"""A real authoritative DNS server (NSD, from Debian's package) on a free loopback port, serving
the test world of authworld/world.py: zones generated at test time, DKIM keys generated at test
time, one zone DNSSEC-signed with ldns-signzone (its DS exported as a trust-anchor file a
validating resolver can load), one signed with signatures that expired (bogus), one that answers
SERVFAIL. It can stop answering (SIGSTOP) for the timeout tests.

Command line, for unit-test authors (run from tests/integration):
    python3 -m harness.dns --print-config [--dir DIR] [--port N]
starts the world, prints one JSON object (port, forwarder, trust-anchor file, key paths,
a mailsec.yaml dns: snippet) on stdout, and serves until SIGINT/SIGTERM or stdin closes.
See authworld/README.md.

Stdlib only (runs under the tests' interpreter); the keys come from the openssl CLI and
ldns-keygen."""
import argparse
import base64
import json
import os
import random
import select
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

from .ports import free_port, wait_until

try:
    from authworld import world
except ImportError:  # run from elsewhere than tests/integration
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from authworld import world

NSD = "/usr/sbin/nsd"

_NSD_CONF = """\
server:
  ip-address: 127.0.0.1@{port}
  port: {port}
  do-ip6: no
  username: ""
  chroot: ""
  zonesdir: "{dir}"
  database: ""
  zonelistfile: "{dir}/zone.list"
  xfrdfile: "{dir}/xfrd.state"
  xfrdir: "{dir}"
  pidfile: "{dir}/nsd.pid"
  logfile: "{dir}/nsd.log"
  server-count: 1
  verbosity: 2
  hide-version: yes
  # Answer every query at once: the tests count answers, not rate limits.
  rrl-ratelimit: 0
remote-control:
  control-enable: no
{zones}"""

_SOA = "@ 300 IN SOA ns.{zone}. hostmaster.{zone}. 1 3600 600 86400 300\n@ 300 IN NS ns.{zone}.\n"


def _run(argv: list[str], cwd: str) -> str:
    r = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({r.returncode}): {r.stderr}")
    return r.stdout


def _der(argv: list[str], cwd: str) -> bytes:
    return subprocess.run(argv, cwd=cwd, check=True, capture_output=True).stdout


class DnsWorld:
    """Generates keys and zones in `directory`, then serves them with NSD on 127.0.0.1:port
    (UDP and TCP). Attributes after build(): port, trust_anchor (path of the DS records of
    the signed zones), keys ({name: {"kind", "bits", "private", "public"}}: private is a
    PEM file (rsa) or a file holding the base64 seed (ed25519)), zone_files."""

    def __init__(self, directory: str, port: int | None = None):
        self.dir = os.path.abspath(directory)
        self.port = port or free_port()
        self.keys = {}
        self.zone_files = {}
        self.trust_anchor = os.path.join(self.dir, "trust-anchors.ds")
        self.proc = None
        self.paused = False
        self._log = None

    # ---- building -------------------------------------------------------------------------

    def build(self) -> "DnsWorld":
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        os.makedirs(os.path.join(self.dir, "keys"))
        os.makedirs(os.path.join(self.dir, "dnssec"))
        self._make_dkim_keys()
        public = {name: (k["kind"], k["public"]) for name, k in self.keys.items()}
        zones = world.records(public)
        for zone, rrs in zones.items():
            path = os.path.join(self.dir, f"{zone}.zone")
            with open(path, "w") as f:
                f.write(f"$ORIGIN {zone}.\n$TTL 300\n")
                f.write(_SOA.format(zone=zone))
                f.write(f"ns 300 IN A 127.0.0.1\n")
                for owner, rtype, rdata in rrs:
                    f.write(f"{owner}. 300 IN {rtype} {rdata}\n")
            self.zone_files[zone] = path
        # A signed root of our own that delegates test. without DS (an insecure delegation,
        # proven by NSEC): a validator that also holds the real root anchor (dns-root-data)
        # validates through it instead of calling every test name bogus.
        root = os.path.join(self.dir, "root.zone")
        with open(root, "w") as f:
            f.write("$ORIGIN .\n$TTL 300\n"
                    ". 300 IN SOA ns.test. hostmaster.test. 1 3600 600 86400 300\n"
                    ". 300 IN NS ns.test.\n"
                    f"{world.UNSIGNED_ZONE}. 300 IN NS ns.{world.UNSIGNED_ZONE}.\n"
                    f"ns.{world.UNSIGNED_ZONE}. 300 IN A 127.0.0.1\n")
        self.zone_files["."] = root
        anchors = [self._sign(".")]
        anchors.append(self._sign(world.SIGNED_ZONE))
        # Signatures valid from 2019-12-01 to 2020-01-01 only: a validator calls them bogus.
        anchors.append(self._sign(world.BOGUS_ZONE, inception="20191201000000",
                                  expiration="20200101000000"))
        with open(self.trust_anchor, "w") as f:
            f.write("".join(anchors))
        zone_conf = ""
        for zone in (".", world.UNSIGNED_ZONE, world.SIGNED_ZONE, world.BOGUS_ZONE):
            zone_conf += f"zone:\n  name: \"{zone}\"\n  zonefile: \"{self.zone_files[zone]}\"\n"
        # Configured without a zone file: NSD answers SERVFAIL for every name in it.
        zone_conf += (f"zone:\n  name: {world.SERVFAIL_ZONE}\n"
                      f"  zonefile: \"{self.dir}/{world.SERVFAIL_ZONE}.missing\"\n")
        self.conf = os.path.join(self.dir, "nsd.conf")
        with open(self.conf, "w") as f:
            f.write(_NSD_CONF.format(port=self.port, dir=self.dir, zones=zone_conf))
        _run(["nsd-checkconf", self.conf], self.dir)
        return self

    def _make_dkim_keys(self) -> None:
        keydir = os.path.join(self.dir, "keys")
        for name, (kind, bits) in world.KEYS.items():
            if kind == "rsa":
                private = os.path.join(keydir, f"{name}.pem")
                # PKCS#1 ("traditional"): the form python3-dkim and opendkim read.
                _run(["openssl", "genrsa", "-traditional", "-out", private, str(bits)], keydir)
                spki = _der(["openssl", "rsa", "-in", private, "-pubout", "-outform", "DER"],
                            keydir)
                public = base64.b64encode(spki).decode()
            else:
                pem = os.path.join(keydir, f"{name}.ed25519.pem")
                _run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", pem], keydir)
                seed = _der(["openssl", "pkey", "-in", pem, "-outform", "DER"], keydir)[-32:]
                raw = _der(["openssl", "pkey", "-in", pem, "-pubout", "-outform", "DER"],
                           keydir)[-32:]
                private = os.path.join(keydir, f"{name}.ed25519.seed")
                with open(private, "w") as f:
                    f.write(base64.b64encode(seed).decode() + "\n")
                public = base64.b64encode(raw).decode()
            os.chmod(private, 0o600)
            self.keys[name] = {"kind": kind, "bits": bits, "private": private,
                               "public": public}

    def _sign(self, zone: str, inception: str | None = None,
              expiration: str | None = None) -> str:
        """Signs the zone file in place (ECDSAP256SHA256, a KSK and a ZSK, NSEC); returns the
        KSK's DS record."""
        keydir = os.path.join(self.dir, "dnssec")
        ksk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-k", "-r", "/dev/urandom", zone],
                   keydir).strip()
        zsk = _run(["ldns-keygen", "-a", "ECDSAP256SHA256", "-r", "/dev/urandom", zone],
                   keydir).strip()
        unsigned = self.zone_files[zone]
        signed = unsigned + ".signed"
        argv = ["ldns-signzone", "-f", signed, "-o", zone]
        if inception:
            argv += ["-i", inception]
        if expiration:
            argv += ["-e", expiration]
        _run(argv + [unsigned, os.path.join(keydir, zsk), os.path.join(keydir, ksk)], keydir)
        self.zone_files[zone] = signed
        with open(os.path.join(keydir, ksk + ".ds")) as f:
            ds = f.read()
        with open(self._ds_file(zone), "w") as f:
            f.write(ds)
        return ds

    def _ds_file(self, zone: str) -> str:
        return os.path.join(self.dir, "root.ds" if zone == "." else f"{zone}.ds")

    # ---- running ---------------------------------------------------------------------------

    def start(self) -> "DnsWorld":
        if not self.zone_files:
            self.build()
        self._log = open(os.path.join(self.dir, "nsd.stderr"), "ab")
        # Its own session: SIGSTOP/SIGCONT reach NSD's main and server processes together.
        self.proc = subprocess.Popen([NSD, "-d", "-c", self.conf], stdout=self._log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        try:
            wait_until(self._answers, timeout=15, what=f"NSD answering on port {self.port}")
        except TimeoutError:
            self.stop()
            raise RuntimeError(f"NSD did not start:\n{self.log()}")
        return self

    def _answers(self) -> bool:
        if self.proc.poll() is not None:
            raise RuntimeError(f"NSD exited ({self.proc.returncode}):\n{self.log()}")
        return query(self.port, "hardfail.test", "TXT", timeout=0.5) is not None

    def pause(self) -> None:
        """Stops answering (UDP and TCP) without closing the sockets: queries time out."""
        os.killpg(self.proc.pid, signal.SIGSTOP)
        self.paused = True

    def resume(self) -> None:
        os.killpg(self.proc.pid, signal.SIGCONT)
        self.paused = False

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.paused:
            self.resume()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self._log:
            self._log.close()

    def log(self) -> str:
        out = ""
        for name in ("nsd.stderr", "nsd.log"):
            try:
                with open(os.path.join(self.dir, name), errors="replace") as f:
                    out += f.read()
            except OSError:
                pass
        return out

    # ---- what clients need -----------------------------------------------------------------

    @property
    def forwarder(self) -> str:
        """The server in unbound's forward-addr syntax (IP@port)."""
        return f"127.0.0.1@{self.port}"

    def milter_dns_yaml(self, timeout_ms: int = 1500, dnssec: str = "validate") -> str:
        """The dns: section of mailsec.yaml that points the milter at this server."""
        return (f"dns:\n  forwarders: [\"{self.forwarder}\"]\n  timeout_ms: {timeout_ms}\n"
                f"  dnssec: {dnssec}\n  trust_anchor_files: [\"{self.trust_anchor}\"]\n")

    def config(self) -> dict:
        return {
            "port": self.port,
            "address": "127.0.0.1",
            "forwarder": self.forwarder,
            "trust_anchor_file": self.trust_anchor,
            "trust_anchor_files_per_zone": {
                z: self._ds_file(z) for z in (world.SIGNED_ZONE, world.BOGUS_ZONE)},
            "root_anchor_file": self._ds_file("."),
            "zones": {z: p for z, p in self.zone_files.items()},
            "servfail_zone": world.SERVFAIL_ZONE,
            "keys": self.keys,
            "dir": self.dir,
            "pid": self.proc.pid if self.proc else None,
            "mailsec_yaml": self.milter_dns_yaml(),
        }

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


# ---- a tiny stub query (stdlib), for readiness checks and the tests' own probes -----------

def _encode_name(name: str) -> bytes:
    out = b""
    for label in name.rstrip(".").split("."):
        out += bytes([len(label)]) + label.encode()
    return out + b"\0"


_TYPES = {"A": 1, "NS": 2, "SOA": 6, "TXT": 16, "AAAA": 28, "DNSKEY": 48}


def query(port: int, name: str, rtype: str = "TXT", timeout: float = 2.0,
          host: str = "127.0.0.1") -> int | None:
    """Sends one UDP query; returns the reply's RCODE, or None when no reply came in time."""
    qid = random.randrange(65536)
    packet = struct.pack(">HHHHHH", qid, 0x0000, 1, 0, 0, 0) + _encode_name(name) + \
        struct.pack(">HH", _TYPES[rtype], 1)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(timeout)
        s.sendto(packet, (host, port))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                data, _ = s.recvfrom(65535)
            except socket.timeout:
                return None
            if len(data) >= 4 and struct.unpack(">H", data[:2])[0] == qid:
                return data[3] & 0x0F
    return None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python3 -m harness.dns",
        description="Serve mailsec's SPF/DKIM/DMARC test world with NSD on loopback.")
    parser.add_argument("--print-config", action="store_true",
                        help="print the world's configuration as one JSON object on stdout")
    parser.add_argument("--dir", help="where to build it (default: a new temporary directory)")
    parser.add_argument("--port", type=int, help="UDP+TCP port (default: a free one)")
    parser.add_argument("--build-only", action="store_true",
                        help="generate keys and zones, print the config, do not serve")
    args = parser.parse_args(argv)
    directory = args.dir or tempfile.mkdtemp(prefix="mailsec-dnsworld-")
    dns = DnsWorld(directory, args.port).build()
    if args.build_only:
        print(json.dumps(dns.config(), indent=2), flush=True)
        return 0
    stopping = []

    def _stop(signum, frame):
        stopping.append(signum)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    dns.start()
    try:
        if args.print_config:
            print(json.dumps(dns.config(), indent=2), flush=True)
        else:
            print(f"serving the mailsec test world on {dns.forwarder} "
                  f"(trust anchors: {dns.trust_anchor}); Ctrl-C stops", file=sys.stderr,
                  flush=True)
        # A pipe on stdin (a parent holding it open) stops the world when it closes.
        watch_stdin = stat.S_ISFIFO(os.fstat(sys.stdin.fileno()).st_mode)
        while not stopping:
            if watch_stdin:
                ready, _, _ = select.select([sys.stdin], [], [], 0.5)
                if ready and not sys.stdin.buffer.read1(4096):
                    break  # stdin closed: the parent went away
            else:
                time.sleep(0.5)
            if dns.proc.poll() is not None:
                print(f"NSD exited:\n{dns.log()}", file=sys.stderr)
                return 1
    finally:
        dns.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
