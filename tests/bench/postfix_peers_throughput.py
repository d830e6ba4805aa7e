#!/usr/bin/python3
"""Benchmark (not a test): what a verifying milter costs Postfix, end to end, against the peers.

One Postfix (smtpd → cleanup → discard) with three SMTP ports on loopback:
  (a) no milter;
  (b) mailsec-milter with every verifier on (SPF in its sandbox, DKIM, DMARC, DNSSEC validation)
      and every measurement (TLS, Received chain, peers);
  (c) Debian's OpenDKIM (Mode v) and OpenDMARC (SPFSelfValidate: SPF too) milters, in series,
      verifying the same traffic.
bench_smtp_load (tests/bench/smtp_load.cc) sends the same messages to each: 10,000 by default,
20 concurrent sessions, one message per connection, every second one over STARTTLS (TLS 1.3),
from 192.0.2.10 (an address the senders' SPF records authorize; mailsec, like libspf2, does not
evaluate SPF for loopback clients, and OpenDMARC ignores 127.0.0.1). The messages are a mix
of DKIM-signed (rsa-2048, rsa-1024, ed25519, two signatures, one broken by a body change) and
unsigned mail from the DMARC domains of the test world, each with a Received chain of 3 to 5
hops and realistic headers, 3–6 kB. Every lookup is answered by the DNS test world
(harness/dns.py: NSD on 127.0.0.1:53).

Own namespaces: the script re-executes itself under `unshare --net --mount`, brings up lo,
adds 192.0.2.10 to it and bind-mounts a resolv.conf naming 127.0.0.1 over /etc/resolv.conf,
so OpenDMARC's and libspf2's libresolv lookups reach the test world and nothing queries the
machine's resolver. Needs root.

Printed for each configuration: messages/s, client latency (p50/p99: connect → the 250 after
the final "."), CPU per message of the whole machine and of the milter processes; then a/c, b/a
and b/c. For (b) also what mailsec counted and verified (the verification runs after the SMTP
reply: the script waits until every message's verdict is counted, and says how long that took
and how many verifications were dropped by a full queue). Exits non-zero if a run fails.

usage: tests/bench/postfix_peers_throughput.py [--build build] [--messages 10000]
       [--sessions 20] [--tls-every 2] [--warmup 300] [--only a,b,c] [--milter-socket unix|inet]
       [--keep]
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
INTEGRATION = os.path.join(HERE, "..", "integration")
sys.path.insert(0, INTEGRATION)

from authworld import messages as signer  # noqa: E402
from authworld import world  # noqa: E402
from harness import metrics  # noqa: E402
from harness.cpu import machine_busy_seconds, process_cpu_seconds  # noqa: E402
from harness.dns import DnsWorld  # noqa: E402
from harness.pki import TestPki  # noqa: E402
from harness.ports import free_port, wait_listening, wait_until  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness.processes import on_socket  # noqa: E402

CHECK_RCPT = "check@mailsec.test"  # delivered, not discarded: the peers' verdicts are read
CLIENT_IP = world.GOOD_IP  # inside world.AUTHORIZED_NET: SPF passes for the DMARC domains
_NS_MARK = "MAILSEC_BENCH_IN_NAMESPACE"

# ---- the messages ---------------------------------------------------------------------------

# (name, From/MAIL FROM domain, signatures [(domain, selector, key, algorithm)], body changed
# after signing, hops added before signing (the sender's own), hops added after (relays))
MIX = [
    ("monitor-rsa2048", "monitor.test", [("monitor.test", "s1", "s1", "rsa-sha256")], False, 2, 2),
    ("quarantine-rsa2048", "quarantine.test", [("quarantine.test", "s1", "s1", "rsa-sha256")],
     False, 1, 2),
    ("reject-bodychanged", "reject.test", [("reject.test", "s1", "s1", "rsa-sha256")], True, 1,
     3),
    ("dkim-rsa1024", "dkim.test", [("dkim.test", "k1024", "k1024", "rsa-sha256")], False, 2, 1),
    ("dkim-ed25519", "dkim.test", [("dkim.test", "ed", "ed", "ed25519-sha256")], False, 1, 2),
    ("signed-two-signatures", "signed.test", [("signed.test", "s1", "s1", "rsa-sha256"),
                                              ("dkim.test", "k2048", "k2048", "rsa-sha256")],
     False, 2, 3),
    ("partial-unsigned", "partial.test", [], False, 1, 2),
    ("monitor-list", "monitor.test", [("monitor.test", "s1", "s1", "rsa-sha256")], False, 3, 2),
]


def _received(i: int, name: str, tls: str) -> str:
    """One realistic Received field (Postfix's format), hop i of a message."""
    if tls == "submission":
        return (f"Received: from [10.1.{i}.7] (unknown [10.1.{i}.7])\r\n"
                f"\t(Authenticated sender: sender)\r\n"
                f"\tby submit{i}.{name} (Postfix) with ESMTPSA id 4Q{i}Xk2b7Mz9\r\n"
                f"\tfor <user@mailsec.test>; Tue,  1 Dec 2026 11:5{i}:0{i} +0000 (UTC)\r\n")
    if tls == "tls13":
        return (f"Received: from relay{i}.{name} (relay{i}.{name} [192.0.2.{20 + i}])\r\n"
                f"\t(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n"
                f"\t key-exchange X25519 server-signature RSA-PSS (2048 bits) server-digest "
                f"SHA256)\r\n"
                f"\t(No client certificate requested)\r\n"
                f"\tby mx{i}.{name} (Postfix) with ESMTPS id 4Q{i}Yz8c1Nq3\r\n"
                f"\tfor <user@mailsec.test>; Tue,  1 Dec 2026 11:5{i}:1{i} +0000 (UTC)\r\n")
    if tls == "tls12":
        return (f"Received: from out{i}.{name} (out{i}.{name} [198.51.100.{30 + i}])\r\n"
                f"\tby gw{i}.{name} with ESMTPS id x{i}si12345678qkb.12\r\n"
                f"\t(version=TLS1_2 cipher=ECDHE-RSA-AES128-GCM-SHA256 bits=128/128);\r\n"
                f"\tTue, 01 Dec 2026 11:5{i}:2{i} -0800 (PST)\r\n")
    return (f"Received: from int{i}.{name} (int{i}.{name} [10.2.{i}.9])\r\n"
            f"\tby hub{i}.{name} (8.17.1/8.17.1) with ESMTP id 1B1Bq{i}Ab0{i}2345\r\n"
            f"\tfor <user@mailsec.test>; Tue, 1 Dec 2026 11:5{i}:3{i} GMT\r\n")


def _body(name: str, lines: int) -> str:
    text = [f"Hello,\r\n\r\nThis is the {name} message of mailsec's end-to-end benchmark.\r\n"]
    for n in range(lines):
        text.append(f"Line {n:03d}: the quick brown fox jumps over the lazy dog; "
                    f"0123456789 abcdefghijklmnopqrstuvwxyz.\r\n")
    text.append("\r\n-- \r\nmailsec benchmark\r\n")
    return "".join(text)


def build_messages(keys: dict, directory: str) -> list[tuple[str, str]]:
    """Writes the mix to `directory`; returns [(path, envelope sender)]."""
    os.makedirs(directory, exist_ok=True)
    shapes = ["tls13", "tls12", "plain", "tls13", "plain"]
    out = []
    for n, (name, domain, sigs, changed, own, relays) in enumerate(MIX):
        own_hops = "".join(_received(10 + i, domain, "submission" if i == 0 else "plain")
                           for i in range(own))
        headers = (f"From: Sender {n} <news{n}@{domain}>\r\nTo: User <user@mailsec.test>\r\n"
                   f"Subject: mailsec benchmark message {name}\r\n"
                   "Date: Tue, 01 Dec 2026 11:50:00 +0000\r\n"
                   f"Message-ID: <bench.{name}.20261201@{domain}>\r\n"
                   "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n"
                   "Content-Transfer-Encoding: 8bit\r\n"
                   f"List-Unsubscribe: <mailto:unsubscribe@{domain}>\r\n")
        message = (own_hops + headers + "\r\n" + _body(name, 30 + 12 * n)).encode()
        for sdomain, selector, key, algorithm in reversed(sigs):
            message = signer.sign(message, keys, sdomain, selector, key, algorithm, None)
        if changed:
            message = message.replace(b"the quick brown fox", b"the QUICK brown fox", 1)
        relay_hops = "".join(_received(i, domain, shapes[(n + i) % len(shapes)])
                             for i in range(relays))
        message = relay_hops.encode() + message
        path = os.path.join(directory, name + ".eml")
        with open(path, "wb") as f:
            f.write(message)
        out.append((path, f"news{n}@{domain}"))
    return out


def peers_verdicts(args, loader: str, port: int, mix, postfix: Postfix) -> dict:
    """Sends two rounds of the mix through (c) to CHECK_RCPT, delivered to the maildir, and
    counts the verdicts OpenDKIM and OpenDMARC wrote in their Authentication-Results fields:
    evidence that the peers verified what they were timed on (they have no metrics)."""
    n = 2 * len(mix) * max(args.tls_every, 1)
    before = postfix.delivered()
    load(args, loader, port, n, mix, rcpt=CHECK_RCPT)
    postfix.wait_delivered(before + n)
    out = {"messages": n}
    for message in postfix.delivered_messages():
        head = message.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0].decode("latin-1")
        unfolded = head.replace("\r\n\t", " ").replace("\n\t", " ").replace("\n ", " ")
        for line in unfolded.splitlines():
            if not line.lower().startswith("authentication-results: mx.mailsec.test"):
                continue
            for method in ("spf", "dkim", "dmarc"):
                for verdict in re.findall(rf"\b{method}=([a-z]+)", line):
                    out[f"{method}_{verdict}"] = out.get(f"{method}_{verdict}", 0) + 1
    expected = expected_verdicts(n, args.tls_every)
    wrong = {k: (out.get(k, 0), expected[k])
             for k in ("spf_pass", "dkim_pass", "dkim_fail", "dmarc_pass")
             if out.get(k, 0) != expected[k]}
    if wrong:
        raise RuntimeError(f"the peers' verdicts (found, expected): {wrong}")
    return out


def expected_verdicts(messages: int, tls_every: int) -> dict:
    """What mailsec must count for `messages` sent by bench_smtp_load (message k is MIX[(k /
    tls_every) % len(MIX)]): every SPF passes, every signature but a changed body's passes,
    DMARC passes (SPF aligned) where the domain publishes a record."""
    out = {"messages": 0, "messages_tls": 0, "spf_pass": 0, "dkim_pass": 0, "dkim_fail": 0,
           "dmarc_pass": 0}
    for k in range(messages):
        _, domain, sigs, changed, _, _ = MIX[(k // max(tls_every, 1)) % len(MIX)]
        out["messages"] += 1
        out["messages_tls"] += tls_every > 0 and k % tls_every == 0
        out["spf_pass"] += 1
        out["dkim_fail" if changed else "dkim_pass"] += len(sigs)
        out["dmarc_pass"] += "dmarc" in world.DOMAINS[domain]
    return out


# ---- the peers' configuration ----------------------------------------------------------------

def opendkim_conf(directory: str, socket_spec: str, dns: DnsWorld) -> str:
    # libunbound, as OpenDKIM uses it, answers every name under "test." itself (a default
    # local zone, RFC 6761) unless told otherwise, which only a configuration file can do.
    # OpenDKIM 2.11 parses that file for every message, from many threads, and unbound's
    # parser is not reentrant: it runs with tests/bench/ub_config_lock.cc preloaded.
    unbound = os.path.join(directory, "opendkim-unbound.conf")
    with open(unbound, "w") as f:
        f.write('server:\n  do-ip6: no\n  local-zone: "test." nodefault\n'
                f'  trust-anchor-file: "{dns.trust_anchor}"\n'
                f'forward-zone:\n  name: "."\n  forward-addr: {dns.forwarder}\n')
    conf = os.path.join(directory, "opendkim.conf")
    with open(conf, "w") as f:
        f.write(f"Mode v\nSocket {socket_spec}\nBackground no\nSyslog no\n"
                f"PidFile {directory}/opendkim.pid\nAuthservID mx.mailsec.test\n"
                f"ResolverConfiguration {unbound}\nAlwaysAddARHeader yes\n"
                "On-BadSignature accept\nOn-DNSError accept\nOn-InternalError accept\n"
                "On-KeyNotFound accept\nOn-NoSignature accept\nOn-Security accept\n")
    return conf


def opendmarc_conf(directory: str, socket_spec: str) -> str:
    conf = os.path.join(directory, "opendmarc.conf")
    with open(conf, "w") as f:
        f.write(f"Socket {socket_spec}\nBackground false\nSyslog false\n"
                f"PidFile {directory}/opendmarc.pid\nAuthservID mx.mailsec.test\n"
                "TrustedAuthservIDs mx.mailsec.test\nSPFSelfValidate true\n"
                "RejectFailures false\nFailureReports false\nRequiredHeaders false\n"
                "PublicSuffixList /usr/share/publicsuffix/public_suffix_list.dat\n")
    return conf


# ---- the run --------------------------------------------------------------------------------

def enter_namespaces() -> None:
    """Re-executes this script in new network and mount namespaces (see the docstring)."""
    if os.environ.get(_NS_MARK):
        subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
        subprocess.run(["ip", "addr", "add", f"{CLIENT_IP}/32", "dev", "lo"], check=True)
        return
    if os.geteuid() != 0:
        sys.exit("postfix_peers_throughput: run as root (namespaces, Postfix, port 53)")
    env = dict(os.environ, **{_NS_MARK: "1"})
    argv = ["unshare", "--net", "--mount", "--propagation", "private", "--", "/usr/bin/python3",
            os.path.abspath(__file__)] + sys.argv[1:]
    sys.exit(subprocess.run(argv, env=env).returncode)


def point_resolv_conf_at_the_world(work: str) -> None:
    path = os.path.join(work, "resolv.conf")
    with open(path, "w") as f:
        f.write("nameserver 127.0.0.1\noptions timeout:2 attempts:1\n")
    subprocess.run(["mount", "--bind", path, "/etc/resolv.conf"], check=True)


def load(args, loader: str, port: int, messages: int, mix, rcpt="user@mailsec.test") -> dict:
    argv = [loader, "--connect", f"127.0.0.1:{port}", "--bind", CLIENT_IP, "--rcpt", rcpt,
            "--sessions", str(args.sessions), "--messages", str(messages),
            "--tls-every", str(args.tls_every)]
    for path, sender in mix:
        argv += ["--message", f"{path}={sender}"]
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bench_smtp_load failed ({r.returncode}): {r.stdout}{r.stderr}")
    return json.loads(r.stdout)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--messages", type=int, default=10000)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--tls-every", type=int, default=2)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--only", default="a,b,c")
    p.add_argument("--milter-socket", choices=("unix", "inet"), default="unix",
                   help="how Postfix reaches the milters (Debian's peers default to unix)")
    p.add_argument("--keep", action="store_true", help="keep the work directory")
    args = p.parse_args()
    enter_namespaces()
    build = os.path.abspath(args.build)
    loader = os.path.join(build, "tests", "bench", "bench_smtp_load")
    milter_bin = os.path.join(build, "milter", "mailsec-milter")
    shim = os.path.join(build, "tests", "bench", "libub_config_lock.so")
    for binary in (loader, milter_bin, shim, "/usr/sbin/opendkim", "/usr/sbin/opendmarc"):
        if not os.access(binary, os.X_OK):
            sys.exit(f"postfix_peers_throughput: {binary} is missing (build bench_smtp_load, "
                     "ub_config_lock and mailsec-milter; install-deps installs opendkim and "
                     "opendmarc)")

    load_before = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="mailsec-peers-", dir="/var/tmp")
    os.chmod(work, 0o755)
    point_resolv_conf_at_the_world(work)
    dns = DnsWorld(os.path.join(work, "dns"), port=53).build().start()
    mix = build_messages(dns.keys, os.path.join(work, "messages"))
    pki = TestPki(os.path.join(work, "pki"))

    ports = {c: free_port() for c in "abc"}
    mailsec_metrics = free_port()
    if args.milter_socket == "unix":  # what Debian's opendkim and opendmarc packages use
        spec = {name: f"unix:{work}/{name}.sock" for name in ("mailsec", "opendkim", "opendmarc")}
    else:
        spec = {name: f"inet:{free_port()}@127.0.0.1"
                for name in ("mailsec", "opendkim", "opendmarc")}

    def postfix_spec(name):  # Postfix writes inet:HOST:PORT
        if spec[name].startswith("unix:"):
            return spec[name]
        port, host = spec[name][5:].split("@")
        return f"inet:{host}:{port}"
    procs = []
    postfix = None
    results = {}
    try:
        config = os.path.join(work, "mailsec.yaml")
        with open(config, "w") as f:
            f.write(f"port_classes:\n  mx: {{ports: [{ports['b']}]}}\nlog: {{level: warning}}\n"
                    + dns.milter_dns_yaml())
        mailsec = on_socket([milter_bin, "--config", config, "--socket", spec["mailsec"],
                           "--metrics-listen", f"127.0.0.1:{mailsec_metrics}", "--log-stderr"],
                          os.path.join(work, "mailsec.log"), spec["mailsec"])
        procs.append(mailsec)
        opendkim = on_socket(["/usr/sbin/opendkim", "-f", "-x",
                            opendkim_conf(work, spec["opendkim"], dns)],
                           os.path.join(work, "opendkim.log"), spec["opendkim"],
                           env={"LD_PRELOAD": shim})
        procs.append(opendkim)
        opendmarc = on_socket(["/usr/sbin/opendmarc", "-f", "-c",
                             opendmarc_conf(work, spec["opendmarc"])],
                            os.path.join(work, "opendmarc.log"), spec["opendmarc"])
        procs.append(opendmarc)
        milters = {"a": [], "b": [mailsec], "c": [opendkim, opendmarc]}

        postfix = Postfix(os.path.join(work, "postfix"), ports["a"], pki=pki, main_cf={
            "virtual_transport": "discard:benchmark",
            # The check sample (peers_verdicts) is delivered to the maildir to be read.
            "transport_maps": f"inline:{{{CHECK_RCPT}=virtual:}}",
            "milter_default_action": "accept",
            "milter_protocol": "6",
            "smtpd_client_connection_count_limit": "0",
            "smtpd_client_connection_rate_limit": "0",
            "default_process_limit": "200",
            "smtpd_tls_loglevel": "0",
            "smtpd_tls_ask_ccert": "no",
            "smtpd_peername_lookup": "no",
        })
        with open(os.path.join(postfix.conf, "master.cf"), "a") as f:
            f.write(f"127.0.0.1:{ports['b']} inet n - n - - smtpd\n"
                    f"  -o smtpd_milters={postfix_spec('mailsec')}\n"
                    f"127.0.0.1:{ports['c']} inet n - n - - smtpd\n"
                    f"  -o smtpd_milters={postfix_spec('opendkim')},"
                    f"{postfix_spec('opendmarc')}\n")
        postfix.start()
        for c in "bc":
            wait_listening(ports[c])

        wanted = [c for c in "abc" if c in args.only.split(",")]
        for c in wanted:  # warm up: process pools, TLS session caches, resolvers' caches
            load(args, loader, ports[c], args.warmup, mix)
        before_b = metrics.scrape(mailsec_metrics)
        for c in wanted:
            cpu0 = machine_busy_seconds()
            milter0 = sum(process_cpu_seconds(m.proc.pid) for m in milters[c])
            r = load(args, loader, ports[c], args.messages, mix)
            end = time.monotonic()
            if c == "b":  # verification runs after the reply: wait for every verdict
                def verified():
                    s = metrics.scrape(mailsec_metrics)
                    done = (s.total("mailsec_auth_verdict_sources_total") -
                            before_b.total("mailsec_auth_verdict_sources_total"))
                    dropped = (s.total("mailsec_verifications_dropped_total") -
                               before_b.total("mailsec_verifications_dropped_total"))
                    return done + dropped >= args.messages
                wait_until(verified, timeout=600, what="every verification counted")
                r["verification_lag_s"] = time.monotonic() - end
            r["machine_cpu_ms"] = (machine_busy_seconds() - cpu0) * 1000 / r["messages"]
            r["milter_cpu_ms"] = (sum(process_cpu_seconds(m.proc.pid) for m in milters[c]) -
                                  milter0) * 1000 / \
                r["messages"]
            results[c] = r
        if "b" in results:
            after = metrics.scrape(mailsec_metrics)

            def delta(name, **match):
                return after.total(name, **match) - before_b.total(name, **match)
            results["b"]["counted"] = {
                "messages": delta("mailsec_messages_total"),
                "messages_tls": delta("mailsec_messages_total", tls="true"),
                "spf_pass": delta("mailsec_spf_results_total", result="pass"),
                "dkim_pass": delta("mailsec_dkim_signatures_total", result="pass"),
                "dkim_fail": delta("mailsec_dkim_signatures_total", result="fail"),
                "dmarc_pass": delta("mailsec_dmarc_results_total", result="pass"),
                "dkim": {",".join(f"{k}={v}" for k, v in sorted(lab)): n - before_b.series(
                    "mailsec_dkim_signatures_total").get(lab, 0) for lab, n in after.series(
                    "mailsec_dkim_signatures_total").items()
                    if n - before_b.series("mailsec_dkim_signatures_total").get(lab, 0)},
                "dropped": delta("mailsec_verifications_dropped_total"),
                "temperror": delta("mailsec_spf_results_total", result="temperror") +
                delta("mailsec_dkim_signatures_total", result="temperror") +
                delta("mailsec_dmarc_results_total", result="temperror"),
            }
            expected = expected_verdicts(args.messages, args.tls_every)
            counted = results["b"]["counted"]
            wrong = {k: (counted[k], v) for k, v in expected.items() if counted[k] != v}
            if wrong and not counted["dropped"]:
                raise RuntimeError(f"mailsec counted (counted, expected): {wrong}")
        if "c" in results:
            results["c"]["verdicts"] = peers_verdicts(args, loader, ports["c"], mix, postfix)
    finally:
        if postfix:
            postfix.stop()
        for proc in procs:
            proc.stop()
        dns.stop()
        subprocess.run(["umount", "/etc/resolv.conf"], check=False)
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    names = {"a": "(a) no milter", "b": "(b) mailsec-milter, every verifier",
             "c": "(c) OpenDKIM + OpenDMARC"}
    print(f"bench_smtp_load: {args.messages} messages, {args.sessions} concurrent sessions, one "
          f"per connection, every {args.tls_every} over STARTTLS; {len(mix)} messages in the mix; "
          f"milters on {args.milter_socket} sockets; {os.cpu_count()} cores; load average "
          f"{load_before:.2f} before the runs (the runs themselves raise it)")
    print(f"{'':36} {'msg/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'CPU ms/msg':>10} "
          f"{'milter CPU ms/msg':>17}  TLS")
    for c, r in results.items():
        print(f"{names[c]:36} {r['per_second']:>7.0f} {r['latency_ms']['p50']:>7.2f} "
              f"{r['latency_ms']['p99']:>7.2f} {r['machine_cpu_ms']:>10.2f} "
              f"{r['milter_cpu_ms']:>17.2f}  {r['tls_versions']}")
    rate = {c: r["per_second"] for c, r in results.items()}
    for x, y in (("a", "c"), ("b", "a"), ("b", "c")):
        if x in rate and y in rate:
            print(f"{x}/{y} = {rate[x] / rate[y]:.3f}")
    if "c" in results:
        print(f"OpenDKIM + OpenDMARC, in their Authentication-Results of a delivered sample: "
              f"{json.dumps(results['c']['verdicts'])}")
    if "b" in results:
        print(f"mailsec counted: {json.dumps(results['b']['counted'])}; every verdict counted "
              f"{results['b']['verification_lag_s']:.1f} s after the last message")
    return 0


if __name__ == "__main__":
    sys.exit(main())
