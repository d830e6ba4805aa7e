#!/usr/bin/env python3
"""Benchmark (not a test): messages/s that Postfix accepts from smtp-source on loopback, with
and without mailsec-milter, in the same run on the same machine, and their ratio.

One Postfix instance listens on two ports: one with smtpd_milters pointing at mailsec-milter,
one with no milter; delivery is to discard(8). Rounds alternate between the two ports so that
drift of the machine affects both alike. Prints a table; exits non-zero only if a run fails.

usage: tests/bench/postfix_milter_throughput.py [--build build] [--messages 5000]
       [--sessions 20] [--rounds 3] [--size 2000]
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import metrics, processes  # noqa: E402
from harness.ports import free_port, wait_listening  # noqa: E402
from harness.postfix import Postfix  # noqa: E402


def smtp_source(port: int, messages: int, sessions: int, size: int) -> float:
    start = time.monotonic()
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
                    "-f", "sender@example.org", "-t", "user@mailsec.test",
                    f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return messages / (time.monotonic() - start)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--size", type=int, default=2000)
    p.add_argument("--latency-messages", type=int, default=200,
                   help="messages sent in one SMTP session at a time, for ms per message")
    args = p.parse_args()
    os.environ["MAILSEC_BUILD_DIR"] = os.path.abspath(args.build)

    work = tempfile.mkdtemp(prefix="mailsec-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    plain_port, milter_smtp_port = free_port(), free_port()
    milter_port, metrics_port = free_port(), free_port()
    # Measurement only (verification has its own benchmark, auth_smtp_latency.py): no DNS.
    milter = processes.milter(work, milter_port, metrics_port,
                              f"port_classes: {{mx: {{ports: [{milter_smtp_port}]}}}}\n"
                              "auth: {enabled: false}\n")
    milter.start()
    postfix = Postfix(os.path.join(work, "postfix"), plain_port, main_cf={
        "virtual_transport": "discard:benchmark",
        "milter_default_action": "accept",
        "milter_protocol": "6",
        "smtpd_client_connection_count_limit": "0",
        "default_process_limit": "200",
    })
    with open(os.path.join(postfix.conf, "master.cf"), "a") as f:
        f.write(f"127.0.0.1:{milter_smtp_port} inet n - n - - smtpd\n"
                f"  -o smtpd_milters=inet:127.0.0.1:{milter_port}\n")
    postfix.start()
    wait_listening(milter_smtp_port)
    try:
        # Warm up both paths (process pools, page cache).
        smtp_source(plain_port, 200, args.sessions, args.size)
        smtp_source(milter_smtp_port, 200, args.sessions, args.size)
        rows = []
        for r in range(args.rounds):
            a = smtp_source(plain_port, args.messages, args.sessions, args.size)
            b = smtp_source(milter_smtp_port, args.messages, args.sessions, args.size)
            rows.append((r + 1, a, b))
        # One session at a time: what a single sender waits per message. Concurrency hides a
        # per-message stall in the throughput figure (a 40 ms one did: milter/negotiation.h).
        latency_plain = 1000 / smtp_source(plain_port, args.latency_messages, 1, args.size)
        latency_milter = 1000 / smtp_source(milter_smtp_port, args.latency_messages, 1, args.size)
        counted = metrics.scrape(metrics_port).total("mailsec_messages_total")
    finally:
        postfix.stop()
        milter.stop()

    print(f"smtp-source -s {args.sessions} -m {args.messages} -l {args.size} → Postfix "
          f"(127.0.0.1) → discard; {os.cpu_count()} cores")
    print(f"{'round':>5}  {'no milter msg/s':>16}  {'mailsec msg/s':>14}  {'ratio':>6}")
    for r, a, b in rows:
        print(f"{r:>5}  {a:>16.0f}  {b:>14.0f}  {b / a:>6.3f}")
    mean_a = sum(a for _, a, _ in rows) / len(rows)
    mean_b = sum(b for _, _, b in rows) / len(rows)
    print(f"{'mean':>5}  {mean_a:>16.0f}  {mean_b:>14.0f}  {mean_b / mean_a:>6.3f}")
    print(f"one session at a time ({args.latency_messages} messages): {latency_plain:.2f} ms per "
          f"message without the milter, {latency_milter:.2f} ms with it "
          f"(+{latency_milter - latency_plain:.2f} ms)")
    expected = args.rounds * args.messages + 200 + args.latency_messages
    print(f"messages counted by mailsec-milter: {counted:.0f} (sent through it: {expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
