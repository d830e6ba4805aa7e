#!/usr/bin/env python3
"""Benchmark (not a test): what mailsec-milter costs per message and per open session, measured
by speaking the milter protocol (version 6) to it directly — no MTA in the way.

The driver (tests/integration/harness/milter_client.py) plays an MTA that offers every
SMFIP_NO*/NR_* step, sends exactly the steps the milter asks for (its SMFIC_OPTNEG answer) with
the macros Postfix sends, and waits only for the replies the milter owes (DATA, end of headers,
body chunks, end of message). Each message is
realistic: a 4-hop Received chain (TLS 1.3, TLS 1.2, cleartext, the submission hop),
Authentication-Results, a DKIM-Signature and a ~2 KB body. With --auth on the message is the
DNS test world's DKIM-signed, SPF- and DMARC-passing "aligned-pass" (authworld/world.py; the
same Received chain prepended, which the signature does not cover), sent from its client
address, and the milter resolves through the world's NSD (tests/integration/harness/dns.py).

Modes (each starts its own mailsec-milter from --build, store off, log level warning):

  cpu       N messages, one SMTP session per message (CONNECT, HELO, MAIL, DATA, headers,
            body, end of message, QUIT); prints µs of milter CPU per message from the deltas
            of /proc/PID/stat utime+stime (and, apart, the SPF sandbox children: cutime+cstime
            plus the live children's utime+stime) around the run, after a warm-up. With --auth on, the run ends when every
            message's verdicts are counted (mailsec_dmarc_results_total + drops).
  callgrind the same under `valgrind --tool=callgrind` three times, N, N/5 and 0 messages
            (start-up and shutdown only), Ir summed over the milter and its forked children;
            prints (Ir(N) - Ir(0)) / N, instructions per message,
            and (Ir(N) - Ir(N/5)) / (N - N/5), the steady state without the first messages'
            one-off costs (repeatable: no timing in it). Needs a build without sanitizers.
  sessions  RSS with --sessions (default 1000) concurrent milter connections each past HELO
            (CONNECT and HELO sent, held open): VmRSS before, after, and the bound per session.
  growth    --messages (default 200000) messages through one milter process over 8
            connections, VmRSS sampled every --sample messages; prints the samples.

usage: tests/bench/milter_protocol_cost.py [--build build-bench] [--auth off|on]
           {cpu,callgrind,sessions,growth} [--messages N] [--sessions N] [--sample N]
Run from anywhere; needs the packages of scripts/install-deps.sh (valgrind for callgrind).
"""
import argparse
import glob
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

from harness import metrics  # noqa: E402
from harness.milter_client import Connection, Message, one_session  # noqa: E402
from harness.ports import free_port, wait_listening, wait_until  # noqa: E402

CLIENT_IP = "198.51.100.25"
RECEIVED_CHAIN = [
    ("Received", "from mx-out-3.sender.example (mx-out-3.sender.example [198.51.100.25])\r\n"
                 "\tby mx1.mailsec.test (Postfix) with ESMTPS id 4Q1x2Y3z4Kz9\r\n"
                 "\t(version=TLS1_3 cipher=TLS_AES_256_GCM_SHA384 bits=256/256)\r\n"
                 "\tfor <user@mailsec.test>; Tue, 1 Dec 2026 18:00:01 +0000"),
    ("Received", "from relay.sender.example (relay.sender.example [10.1.2.3])\r\n"
                 "\tby mx-out-3.sender.example with ESMTPS id 1a2b3c4d\r\n"
                 "\t(version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128);\r\n"
                 "\tTue, 1 Dec 2026 18:00:00 +0000"),
    ("Received", "from app.sender.example (app.sender.example [10.1.9.9])\r\n"
                 "\tby relay.sender.example (8.17.1/8.17.1) with ESMTP id 0B1I0x9A012345\r\n"
                 "\tfor <user@mailsec.test>; Tue, 1 Dec 2026 17:59:59 GMT"),
    ("Received", "from [192.168.7.20] (unknown [192.168.7.20])\r\n"
                 "\t(Authenticated sender: a@sender.example)\r\n"
                 "\tby app.sender.example (Postfix) with ESMTPSA id 77AA1C0042\r\n"
                 "\tfor <user@mailsec.test>; Tue, 1 Dec 2026 17:59:58 +0000 (UTC)"),
]
OTHER_HEADERS = [
    ("Authentication-Results", "relay.sender.example; spf=pass smtp.mailfrom=sender.example"),
    ("DKIM-Signature", "v=1; a=rsa-sha256; c=relaxed/relaxed; d=sender.example; s=s2026;\r\n"
                       "\tt=1796140798; h=from:to:subject:date:message-id:mime-version;\r\n"
                       "\tbh=frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY=;\r\n"
                       "\tb=" + "A" * 340),
    ("From", "Alice <a@sender.example>"),
    ("To", "<user@mailsec.test>"),
    ("Subject", "Quarterly figures"),
    ("Date", "Tue, 1 Dec 2026 17:59:58 +0000"),
    ("Message-ID", "<20261201175958.77AA1C0042@app.sender.example>"),
    ("MIME-Version", "1.0"),
    ("Content-Type", "text/plain; charset=utf-8"),
]
BODY = b"".join(b"Line %04d of a plain message body that is about two kilobytes long.\r\n" % i
                for i in range(28))


def default_message() -> Message:
    return Message(CLIENT_IP, "mx-out-3.sender.example", "a@sender.example",
                   RECEIVED_CHAIN + OTHER_HEADERS, BODY)


def world_message(path: str, m: dict) -> Message:
    """An authworld message file (headers + body, CRLF or LF) with RECEIVED_CHAIN prepended."""
    with open(path, "rb") as f:
        raw = f.read().replace(b"\r\n", b"\n")
    head, _, body = raw.partition(b"\n\n")
    headers = []
    for line in head.split(b"\n"):
        if line[:1] in (b" ", b"\t") and headers:
            name, value = headers[-1]
            headers[-1] = (name, value + "\r\n" + line.decode())
        else:
            name, _, value = line.decode().partition(":")
            headers.append((name, value.lstrip(" ")))
    return Message(m["ip"], m["ehlo"], m["mail_from"], RECEIVED_CHAIN + headers,
                   body.replace(b"\n", b"\r\n"))


class Milter:
    """mailsec-milter from the build directory (optionally under a wrapper such as valgrind)."""

    def __init__(self, build: str, workdir: str, auth_yaml: str, wrapper=(), smtp_port=25):
        self.port, self.metrics_port = free_port(), free_port()
        self.config = os.path.join(workdir, "mailsec.yaml")
        with open(self.config, "w") as f:
            f.write(f"port_classes:\n  mx: {{ports: [{smtp_port}]}}\nlog: {{level: warning}}\n"
                    + auth_yaml)
        self.log = open(os.path.join(workdir, "milter.log"), "ab")
        argv = [*wrapper, os.path.join(build, "milter", "mailsec-milter"), "--config",
                self.config, "--socket", f"inet:{self.port}@127.0.0.1", "--metrics-listen",
                f"127.0.0.1:{self.metrics_port}", "--log-stderr"]
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        wait_listening(self.port, timeout=120)
        wait_listening(self.metrics_port, timeout=120)

    def stat(self) -> tuple[float, float]:
        """(utime+stime, cutime+cstime) in seconds."""
        user, system, kids = self.times()
        return user + system, kids

    def times(self) -> tuple[float, float, float]:
        """(utime, stime, children) in seconds, from /proc/PID/stat: children is cutime+cstime
        (reaped children) plus utime+stime of the live ones (the SPF sandbox children are
        long-lived: their CPU reaches cutime only when one is replaced or the milter stops)."""
        tick = os.sysconf("SC_CLK_TCK")
        live = 0
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat") as f:
                    child = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # gone meanwhile
            if int(child[1]) == self.proc.pid:
                live += int(child[11]) + int(child[12])
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) / tick, int(fields[12]) / tick,
                (int(fields[13]) + int(fields[14]) + live) / tick)

    def status(self, key: str) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
        raise KeyError(key)

    def verdicts(self) -> float:
        s = metrics.scrape(self.metrics_port)
        return s.total("mailsec_dmarc_results_total") + \
            s.total("mailsec_verifications_dropped_total")

    def stop(self) -> int:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=300)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Setup:
    """The work directory, the message and the auth: section (with the DNS world for on)."""

    def __init__(self, auth: bool):
        self.auth = auth
        self.workdir = tempfile.mkdtemp(prefix="mailsec-bench-cost-", dir="/var/tmp")
        os.chmod(self.workdir, 0o755)
        self.world = None
        if not auth:
            self.message, self.auth_yaml = default_message(), "auth: {enabled: false}\n"
            return
        os.chdir(os.path.join(HERE, "..", "integration"))
        from authworld import world  # noqa: E402
        from test_auth_postfix import AUTH_YAML, AuthWorld  # noqa: E402
        self.world = AuthWorld(self.workdir)
        m = next(x for x in world.MESSAGES if x["id"] == "aligned-pass")
        self.message = world_message(self.world.messages["aligned-pass"], m)
        self.auth_yaml = self.world.dns.milter_dns_yaml(timeout_ms=1500, dnssec="validate") + \
            AUTH_YAML

    def close(self) -> None:
        if self.world:
            self.world.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


def wait_verdicts(milter: Milter, count: float) -> None:
    wait_until(lambda: milter.verdicts() >= count, timeout=600, what=f"{count} verdicts")


def run_messages(milter: Milter, setup: Setup, n: int, per_session: int = 1) -> None:
    base = milter.verdicts() if setup.auth else 0
    for s in range(0, n, per_session):
        one_session(milter.port, setup.message, min(per_session, n - s), s, 25)
    if setup.auth:
        wait_verdicts(milter, base + n)


def cpu(args, setup: Setup) -> None:
    milter = Milter(args.build, setup.workdir, setup.auth_yaml)
    try:
        run_messages(milter, setup, 200)  # warm-up: caches, allocator, DNS cache
        user0, sys0, kids0 = milter.times()
        t0 = time.monotonic()
        run_messages(milter, setup, args.messages)
        wall = time.monotonic() - t0
        user1, sys1, kids1 = milter.times()
        own0, own1 = user0 + sys0, user1 + sys1
        counted = metrics.scrape(milter.metrics_port).total("mailsec_messages_total")
        if counted < args.messages + 200:
            raise RuntimeError(f"the milter counted {counted} messages, not {args.messages + 200}")
        per = (own1 - own0) / args.messages * 1e6
        kids = (kids1 - kids0) / args.messages * 1e6
        print(f"auth={'on' if setup.auth else 'off'} messages={args.messages} "
              f"(one session each) wall={wall:.1f}s")
        print(f"milter CPU per message: {per:.1f} us (utime+stime)"
              f" + {kids:.1f} us in SPF children (cutime+cstime and live ones); of the milter's, "
              f"{(user1 - user0) / args.messages * 1e6:.1f} us user, "
              f"{(sys1 - sys0) / args.messages * 1e6:.1f} us system")
    finally:
        milter.stop()


def callgrind(args, setup: Setup) -> None:
    def total_ir(n: int) -> int:
        # %p: the SPF checks' forked children (verification on) write their own files.
        out = os.path.join(setup.workdir, f"callgrind.{n}.%p.out")
        milter = Milter(args.build, setup.workdir, setup.auth_yaml,
                        wrapper=("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}"))
        try:
            if n:
                run_messages(milter, setup, n)
        finally:
            milter.stop()
        total, files = 0, glob.glob(os.path.join(setup.workdir, f"callgrind.{n}.*.out"))
        for path in files:
            with open(path) as f:
                total += next(int(line.split()[1]) for line in f
                              if line.startswith(("summary:", "totals:")))
        if not files:
            raise RuntimeError("callgrind wrote no output")
        return total

    n, base = args.messages, args.messages // 5
    with_n, with_base, without = total_ir(n), total_ir(base), total_ir(0)
    print(f"auth={'on' if setup.auth else 'off'} callgrind Ir: N={n}: {with_n}, "
          f"N={base}: {with_base}, N=0: {without}")
    print(f"instructions per message, (Ir(N) - Ir(0)) / N: {(with_n - without) / n:,.0f}")
    # The first messages cost more (series added on first use, libmilter's workers and the
    # allocator's arenas growing): the steady state is the difference of two non-zero runs.
    print(f"instructions per message in the steady state, (Ir(N) - Ir(N/5)) / (N - N/5): "
          f"{(with_n - with_base) / (n - base):,.0f}")


def quiet(milter: Milter, seconds: float = 1.0) -> None:
    """Waits until the milter used no CPU for `seconds`."""
    last = milter.stat()[0]
    while True:
        time.sleep(seconds)
        now = milter.stat()[0]
        if now == last:
            return
        last = now


def sessions(args, setup: Setup) -> None:
    milter = Milter(args.build, setup.workdir, setup.auth_yaml)
    conns = []
    try:
        run_messages(milter, setup, 100)  # the steady state: allocator arenas, caches
        quiet(milter)
        rss0, threads0 = milter.status("VmRSS"), milter.status("Threads")
        print(f"before: VmRSS {rss0} kB, {threads0} threads")
        for step in (args.sessions // 10, args.sessions):
            while len(conns) < step:
                c = Connection(milter.port)
                c.send(c.session_start(setup.message, 25))
                conns.append(c)
            quiet(milter)
            rss, threads = milter.status("VmRSS"), milter.status("Threads")
            fds = len(os.listdir(f"/proc/{milter.proc.pid}/fd"))
            print(f"{len(conns)} sessions open past HELO: VmRSS {rss} kB, {threads} threads, "
                  f"{fds} descriptors, {(rss - rss0) / len(conns):.1f} kB per session")
        # Every session was followed: each is counted when its connection closes.
        for c in conns:
            c.close()
        conns = []
        want = 100 + args.sessions
        wait_until(lambda: metrics.scrape(milter.metrics_port).total("mailsec_sessions_total")
                   >= want, timeout=120, what=f"{want} sessions counted")
        print(f"after closing: {want} sessions counted, VmRSS {milter.status('VmRSS')} kB")
    finally:
        for c in conns:
            c.close()
        milter.stop()


def growth(args, setup: Setup) -> None:
    milter = Milter(args.build, setup.workdir, setup.auth_yaml)
    try:
        conns = [Connection(milter.port) for _ in range(8)]
        for c in conns:
            c.send(c.session_start(setup.message, 25))
        rows, t0, sent = [], time.monotonic(), 0
        rows.append((0, milter.status("VmRSS")))
        print(f"messages=0 VmRSS {rows[-1][1]} kB", flush=True)
        base = milter.verdicts() if setup.auth else 0
        while sent < args.messages:
            # The same message on 8 connections at once (8 sessions of many messages each).
            # Step by step in lockstep: each connection's next segment, then every answer.
            batch = [c.message(setup.message, f"G{sent + i:010X}") for i, c in enumerate(conns)]
            for k in range(len(batch[0])):
                for c, segments in zip(conns, batch):
                    c.sock.sendall(segments[k][0])
                for c, segments in zip(conns, batch):
                    c.replies(segments[k][1])
            sent += len(conns)
            if sent % args.sample == 0:
                if setup.auth:
                    wait_verdicts(milter, base + sent)
                rows.append((sent, milter.status("VmRSS")))
                print(f"messages={sent} VmRSS {rows[-1][1]} kB "
                      f"({time.monotonic() - t0:.0f}s)", flush=True)
        for c in conns:
            c.close()
        counted = metrics.scrape(milter.metrics_port).total("mailsec_messages_total")
        dropped = metrics.scrape(milter.metrics_port).total("mailsec_verifications_dropped_total")
        print(f"the milter counted {counted:.0f} messages ({dropped:.0f} verifications dropped)")
        first = rows[1] if len(rows) > 1 else rows[0]
        print(f"growth from {first[0]} to {rows[-1][0]} messages: "
              f"{rows[-1][1] - first[1]} kB")
    finally:
        milter.stop()


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["cpu", "callgrind", "sessions", "growth"])
    p.add_argument("--build", default="build-bench")
    p.add_argument("--auth", choices=["off", "on"], default="off")
    p.add_argument("--messages", type=int, default=None)
    p.add_argument("--sessions", type=int, default=1000)
    p.add_argument("--sample", type=int, default=20000)
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    if args.messages is None:
        args.messages = {"cpu": 5000, "callgrind": 500, "sessions": 0, "growth": 200000}[args.mode]
    # 1,000 sessions need more descriptors than the default 1024 (the packaged unit sets
    # LimitNOFILE=65536); the milter inherits the limit.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, args.sessions + 1024)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, max(hard, want)))
    setup = Setup(args.auth == "on")
    try:
        {"cpu": cpu, "callgrind": callgrind, "sessions": sessions, "growth": growth}[
            args.mode](args, setup)
    finally:
        setup.close()
    with open("/proc/loadavg") as f:
        print(f"load average: {' '.join(f.read().split()[:3])}, cores: {os.cpu_count()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
