#!/usr/bin/env python3
"""Benchmark (not a test): messages/s that Postfix accepts from smtp-source on loopback, with
and without mailsec-milter, in the same run on the same machine, and their ratio.

One Postfix instance listens on three ports: one with no milter, one with smtpd_milters
pointing at bench_null_milter (tests/bench/null_milter.cc: negotiates the same steps and macros
as mailsec-milter and does nothing — the floor any milter pays Postfix and libmilter), and one
pointing at mailsec-milter; delivery is to discard(8). Rounds alternate between the ports so
that drift of the machine affects all alike. Besides messages/s, each run's CPU per message is
given for the whole machine (/proc/stat) and for the milter process. Prints a table; exits
non-zero only if a run fails.

usage: tests/bench/postfix_milter_throughput.py [--build build] [--messages 5000]
       [--sessions 20] [--rounds 3] [--size 2000] [--latency-messages 200]
       [--milter-socket inet|unix]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import metrics, processes  # noqa: E402
from harness.cpu import machine_busy_seconds, process_cpu_seconds  # noqa: E402
from harness.ports import free_port, wait_listening  # noqa: E402
from harness.postfix import Postfix  # noqa: E402


def smtp_source(port: int, messages: int, sessions: int, size: int) -> float:
    start = time.monotonic()
    subprocess.run(["smtp-source", "-s", str(sessions), "-m", str(messages), "-l", str(size),
                    "-f", "sender@example.org", "-t", "user@mailsec.test",
                    f"127.0.0.1:{port}"], check=True, stdout=subprocess.DEVNULL)
    return messages / (time.monotonic() - start)


def measured(port: int, messages: int, sessions: int, size: int, milter_pid) -> tuple:
    """(messages/s, machine CPU ms per message, milter CPU ms per message)."""
    busy = machine_busy_seconds()
    milter = process_cpu_seconds(milter_pid) if milter_pid else 0.0
    rate = smtp_source(port, messages, sessions, size)
    busy = (machine_busy_seconds() - busy) * 1000 / messages
    milter = (process_cpu_seconds(milter_pid) - milter) * 1000 / messages if milter_pid else 0.0
    return rate, busy, milter


def postfix_spec(spec: str) -> str:
    """A libmilter socket spec as Postfix writes it (inet:PORT@HOST is inet:HOST:PORT)."""
    if not spec.startswith("inet:"):
        return spec
    port, host = spec[5:].split("@")
    return f"inet:{host}:{port}"


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--size", type=int, default=2000)
    p.add_argument("--latency-messages", type=int, default=200,
                   help="messages sent in one SMTP session at a time, for ms per message")
    p.add_argument("--milter-socket", choices=("inet", "unix"), default="inet",
                   help="how Postfix reaches both milters: TCP on loopback or a unix socket")
    args = p.parse_args()
    args.build = os.path.abspath(args.build)
    os.environ["MAILSEC_BUILD_DIR"] = args.build

    load_before = os.getloadavg()[0]
    work = tempfile.mkdtemp(prefix="mailsec-bench-", dir="/var/tmp")
    os.chmod(work, 0o755)
    ports = {"none": free_port(), "null": free_port(), "mailsec": free_port()}
    milter_port, null_port, metrics_port = free_port(), free_port(), free_port()
    # Measurement only (verification has its own benchmarks: auth_smtp_latency.py and the
    # end-to-end postfix_peers_throughput.py): no DNS.
    if args.milter_socket == "unix":
        spec = {"mailsec": f"unix:{work}/mailsec.sock", "null": f"unix:{work}/null.sock"}
    else:
        spec = {"mailsec": f"inet:{milter_port}@127.0.0.1", "null": f"inet:{null_port}@127.0.0.1"}
    config = os.path.join(work, "mailsec.yaml")
    with open(config, "w") as f:
        f.write(f"port_classes: {{mx: {{ports: [{ports['mailsec']}]}}}}\n"
                "auth: {enabled: false}\nlog: {level: warning}\n")
    milter = processes.on_socket(
        [os.path.join(args.build, "milter", "mailsec-milter"), "--config", config, "--socket",
         spec["mailsec"], "--metrics-listen", f"127.0.0.1:{metrics_port}", "--log-stderr"],
        os.path.join(work, "milter.log"), spec["mailsec"], ports=(metrics_port,))
    null = processes.on_socket(
        [os.path.join(args.build, "tests", "bench", "bench_null_milter"), spec["null"]],
        os.path.join(work, "null-milter.log"), spec["null"])
    postfix = Postfix(os.path.join(work, "postfix"), ports["none"], main_cf={
        "virtual_transport": "discard:benchmark",
        "milter_default_action": "accept",
        "milter_protocol": "6",
        "smtpd_client_connection_count_limit": "0",
        "default_process_limit": "200",
    })
    with open(os.path.join(postfix.conf, "master.cf"), "a") as f:
        for name in ("null", "mailsec"):
            f.write(f"127.0.0.1:{ports[name]} inet n - n - - smtpd\n"
                    f"  -o smtpd_milters={postfix_spec(spec[name])}\n")
    postfix.start()
    pids = {"none": None, "null": null.proc.pid, "mailsec": milter.proc.pid}
    try:
        for name in ports:  # warm up every path (process pools, page cache)
            wait_listening(ports[name])
            smtp_source(ports[name], 200, args.sessions, args.size)
        rows = []
        for r in range(args.rounds):
            rows.append({name: measured(ports[name], args.messages, args.sessions, args.size,
                                        pids[name]) for name in ports})
        # One session at a time: what a single sender waits per message. Concurrency hides a
        # per-message stall in the throughput figure (a 40 ms one did: milter/negotiation.h).
        latency = {name: 1000 / smtp_source(ports[name], args.latency_messages, 1, args.size)
                   for name in ports}
        counted = metrics.scrape(metrics_port).total("mailsec_messages_total")
    finally:
        postfix.stop()
        milter.stop()
        null.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"smtp-source -s {args.sessions} -m {args.messages} -l {args.size} → Postfix "
          f"(127.0.0.1) → discard; milters on {args.milter_socket} sockets; {os.cpu_count()} "
          f"cores; load average {load_before:.2f} before the runs")
    print("msg/s (machine CPU ms per message, milter process CPU ms per message)")
    print(f"{'round':>5}  {'no milter':>18}  {'null milter':>24}  {'mailsec-milter':>24}  "
          f"{'null/none':>9}  {'mailsec/none':>12}  {'mailsec/null':>12}")

    def cell(v):
        rate, busy, own = v
        return f"{rate:>6.0f} ({busy:.2f}, {own:.3f})"
    for r, row in enumerate(rows, 1):
        print(f"{r:>5}  {cell(row['none']):>18}  {cell(row['null']):>24}  "
              f"{cell(row['mailsec']):>24}  {row['null'][0] / row['none'][0]:>9.3f}  "
              f"{row['mailsec'][0] / row['none'][0]:>12.3f}  "
              f"{row['mailsec'][0] / row['null'][0]:>12.3f}")
    mean = {name: tuple(sum(row[name][i] for row in rows) / len(rows) for i in range(3))
            for name in ports}
    print(f"{'mean':>5}  {cell(mean['none']):>18}  {cell(mean['null']):>24}  "
          f"{cell(mean['mailsec']):>24}  {mean['null'][0] / mean['none'][0]:>9.3f}  "
          f"{mean['mailsec'][0] / mean['none'][0]:>12.3f}  "
          f"{mean['mailsec'][0] / mean['null'][0]:>12.3f}")
    print(f"one session at a time ({args.latency_messages} messages), ms per message: "
          + ", ".join(f"{name} {ms:.2f}" for name, ms in latency.items()))
    expected = args.rounds * args.messages + 200 + args.latency_messages
    print(f"messages counted by mailsec-milter: {counted:.0f} (sent through it: {expected})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
