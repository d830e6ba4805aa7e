#!/usr/bin/env python3
"""The README's sample run: a private Postfix (127.0.0.1:2525) with mailsec-milter
(inet:8894@127.0.0.1, metrics on 127.0.0.1:9700), a private authoritative DNS server with the
test world's SPF/DKIM/DMARC zones (tests/integration/authworld: the milter verifies against it
and never asks this machine's resolver), a few sample messages, and /metrics."""
import argparse
import os
import signal
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests", "integration"))
from harness import metrics, processes  # noqa: E402
from harness.pki import TestPki  # noqa: E402
from harness.postfix import Postfix  # noqa: E402
from harness.smtp import swaks  # noqa: E402
import test_auth_postfix as auth_world  # noqa: E402  (the DNS world and its signed messages)
from authworld import world as world_table  # noqa: E402

SMTP_PORT, MILTER_PORT, METRICS_PORT = 2525, 8894, 9700


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--build", default="build")
    parser.add_argument("--dir", default="/var/tmp/mailsec-sample")
    parser.add_argument("--once", action="store_true", help="exit after printing the metrics")
    args = parser.parse_args()
    os.environ["MAILSEC_BUILD_DIR"] = os.path.abspath(args.build)
    os.makedirs(args.dir, exist_ok=True)
    os.chmod(args.dir, 0o755)

    repo = os.path.join(os.path.dirname(__file__), "..")
    world = auth_world.AuthWorld(os.path.join(args.dir, "dns-world"))
    with open(os.path.join(repo, "config", "mailsec.yaml")) as f:
        config = (f.read().replace("ports: [25]", f"ports: [25, {SMTP_PORT}]")
                  .replace("  forwarders: []\n", f'  forwarders: ["{world.dns.forwarder}"]\n')
                  .replace("  trust_anchor_files: []\n",
                           f'  trust_anchor_files: ["{world.dns.trust_anchor}"]\n'))
    milter = processes.milter(args.dir, MILTER_PORT, METRICS_PORT, config)
    try:
        milter.start()
    except Exception:
        world.stop()
        raise
    pki = TestPki(os.path.join(args.dir, "pki"))
    postfix = Postfix(os.path.join(args.dir, "postfix"), SMTP_PORT, pki=pki, main_cf={
        "smtpd_milters": f"inet:127.0.0.1:{MILTER_PORT}",
        "milter_default_action": "accept",
        "milter_protocol": "6",
    })
    postfix.start()
    try:
        print(f"Postfix listens on 127.0.0.1:{SMTP_PORT}, mailsec-milter on "
              f"inet:{MILTER_PORT}@127.0.0.1; sending sample messages ...")
        swaks(SMTP_PORT)
        swaks(SMTP_PORT, tls=True, protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
        swaks(SMTP_PORT, tls13_suite="TLS_AES_256_GCM_SHA384", cert=pki.client_cert,
              key=pki.client_key)
        # Signed mail from the test world's domains, presented from their SPF-authorized (and
        # unauthorized) documentation addresses through XCLIENT: SPF, DKIM and DMARC verdicts.
        for m in world_table.MESSAGES[:6]:
            auth_world.send(SMTP_PORT, m, world.messages[m["id"]])
        time.sleep(3)  # verification runs after the milter has answered
        scrape = metrics.scrape(METRICS_PORT)
        print(f"\nhttp://127.0.0.1:{METRICS_PORT}/metrics (non-zero mailsec series):")
        for line in scrape.text.splitlines():
            if line.startswith("mailsec_") and not line.endswith(" 0"):
                print("  " + line)
        if args.once:
            return 0
        print(f"\nSend more with: swaks --server 127.0.0.1:{SMTP_PORT} --to you@mailsec.test "
              "[--tls]\nCtrl-C stops Postfix and the milter.")
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return 0
    finally:
        postfix.stop()
        milter.stop()
        world.stop()


if __name__ == "__main__":
    sys.exit(main())
