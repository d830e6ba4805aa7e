#!/usr/bin/env python3
"""Benchmark (not a test): the SMTP latency verification adds. Two Postfix + mailsec-milter
stacks on loopback, one verifying (dns: pointed at the test world's NSD, auth enabled) and one
with auth.enabled: false, receive the same DKIM-signed, SPF- and DMARC-passing message
(authworld's "aligned-pass", client 192.0.2.10 through XCLIENT), one SMTP session at a time,
rounds alternating between the stacks. Prints the median and mean SMTP transaction time and
end-of-data time (the final "." to its 250) of each, and their difference.

usage: tests/bench/auth_smtp_latency.py [--build build] [--messages 40]
"""
import argparse
import os
import statistics
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--build", default="build")
    p.add_argument("--messages", type=int, default=40)
    args = p.parse_args()
    os.environ["MAILSEC_BUILD_DIR"] = os.path.abspath(args.build)
    os.chdir(os.path.join(HERE, "..", "integration"))

    from authworld import world  # noqa: E402
    from fixtures import MILTER_CONFIG, new_workdir, remove_workdir  # noqa: E402
    from harness import processes  # noqa: E402
    from harness.pki import TestPki  # noqa: E402
    from test_auth_postfix import AuthStack, AuthWorld, timed_send  # noqa: E402

    class QuietStack(AuthStack):
        """The same stack with verification switched off."""

        def __init__(self, workdir, pki, dns):
            super().__init__(workdir, pki, dns, auth=False)
            config = MILTER_CONFIG.format(mx=self.mx_port, sub=self.sub_port) + \
                "auth:\n  enabled: false\n"
            self.milter = processes.milter(workdir, self.milter_port, self.metrics_port, config)

    workdir = new_workdir("auth-latency")
    authworld = AuthWorld(workdir)
    pki = TestPki(os.path.join(workdir, "pki"))
    on_dir, off_dir = os.path.join(workdir, "on"), os.path.join(workdir, "off")
    os.makedirs(on_dir)
    os.makedirs(off_dir)
    on, off = AuthStack(on_dir, pki, authworld.dns), QuietStack(off_dir, pki, authworld.dns)
    statuses = []
    try:
        on.start()
        off.start()
        m = next(x for x in world.MESSAGES if x["id"] == "aligned-pass")
        path = authworld.messages["aligned-pass"]
        for stack in (on, off):  # warm up: process pools, the resolver's cache
            for _ in range(3):
                timed_send(stack.mx_port, m, path)
        times = {"on": [], "off": []}
        for _ in range(args.messages):
            times["on"].append(timed_send(on.mx_port, m, path))
            times["off"].append(timed_send(off.mx_port, m, path))
        verified = on.scrape().total("mailsec_auth_methods_total")
    finally:
        statuses = [on.stop(), off.stop()]
        authworld.stop()
        remove_workdir(workdir, statuses)

    def row(name, samples):
        total = [t * 1000 for t, _ in samples]
        eod = [e * 1000 for _, e in samples]
        print(f"{name:>13}  {statistics.median(total):>9.2f}  {statistics.mean(total):>9.2f}  "
              f"{statistics.median(eod):>9.2f}  {statistics.mean(eod):>9.2f}")
        return statistics.median(total), statistics.median(eod)

    print(f"{args.messages} messages per stack, one SMTP session at a time, {os.cpu_count()} "
          "cores")
    print(f"{'verification':>13}  {'median ms':>9}  {'mean ms':>9}  {'EOD med':>9}  "
          f"{'EOD mean':>9}")
    on_total, on_eod = row("on", times["on"])
    off_total, off_eod = row("off", times["off"])
    print(f"added by verification: {on_total - off_total:+.2f} ms per transaction (median), "
          f"{on_eod - off_eod:+.2f} ms at end of data (median)")
    print(f"messages verified by the verifying stack: {verified:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
