#!/usr/bin/env python3
"""Benchmark (not a test): requests/s and latency of mailsec-policyd on loopback.

Starts the built mailsec-policyd pinned to one CPU (taskset), runs bench_policyd_load pinned
to another with N persistent connections x M requests (one outstanding per connection, as
Postfix's smtpd does), prints the client's figures and checks on the daemon's /metrics that it
answered every request and counted no input errors. Exits non-zero if a run fails.

usage: tests/bench/policyd_load.py [--build build] [--connections 50] [--requests 4000]
       [--rounds 3] [--server-cpu 0] [--client-cpu 1] [--realtime]

--realtime runs both under SCHED_FIFO (chrt -f 10, needs root) so that on a machine busy with
other work the figures show mailsec-policyd rather than the scheduler's queue; runs are short
and both processes block on I/O, and the kernel's RT throttling bounds them anyway.
"""
import argparse
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
from harness import metrics, processes  # noqa: E402
from harness.ports import free_port  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--connections", type=int, default=50)
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--server-cpu", default="0")
    p.add_argument("--client-cpu", default="1")
    p.add_argument("--realtime", action="store_true")
    args = p.parse_args()
    rt = ["chrt", "-f", "10"] if args.realtime else []
    build = os.path.abspath(args.build)
    os.environ["MAILSEC_BUILD_DIR"] = build
    client = os.path.join(build, "tests", "bench", "bench_policyd_load")

    with tempfile.TemporaryDirectory(prefix="policyd-load-") as workdir:
        port, metrics_port = free_port(), free_port()
        daemon = processes.policyd(workdir, port, metrics_port, "log: {level: warning}\n")
        daemon.argv = [*rt, "taskset", "-c", args.server_cpu, *daemon.argv]
        daemon.start()
        try:
            before = metrics.scrape(metrics_port)
            sent = 0
            for _ in range(args.rounds):
                r = subprocess.run([*rt, "taskset", "-c", args.client_cpu, client, "--port", str(port),
                                    "--connections", str(args.connections),
                                    "--requests", str(args.requests)],
                                   capture_output=True, text=True)
                print(r.stdout.strip())
                if r.returncode != 0:
                    print(r.stderr, file=sys.stderr)
                    return 1
                sent += args.connections * args.requests
            after = metrics.scrape(metrics_port)
        finally:
            status = daemon.stop()
        answered = (after.total("mailsec_policyd_requests_total")
                    - before.total("mailsec_policyd_requests_total"))
        errors = (after.total("mailsec_input_errors_total")
                  - before.total("mailsec_input_errors_total"))
        print(f"policyd answered {answered:.0f} of {sent} requests, input errors {errors:.0f}, "
              f"exit status {status}")
        if answered != sent or errors != 0 or status != 0:
            print(daemon.log(), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
