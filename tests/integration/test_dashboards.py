"""Issue 8: every Grafana dashboard panel's PromQL returns data from a real Prometheus that
scraped a test run. One private Postfix wired to mailsec-milter (with SPF/DKIM/DMARC
verification against the test DNS world, the history store and downgrade detection) and to
mailsec-policyd; Prometheus (Debian's /usr/bin/prometheus, scrape_interval 1s) scrapes both.

The traffic is known: the milter matrix (cleartext, TLS 1.2 and 1.3 suites, a client
certificate, masked STARTTLS), every message of the authentication world's verdict table, a
message with 150 Received headers (one malformed, over the cap), an over-long HELO, and a peer whose history is TLS
arriving in cleartext. Every panel must return at least one series; every panel must also show
a non-zero value except the few listed in EXPECTED_ZERO, whose families a healthy run cannot
produce (the list is asserted exactly, so it cannot grow unnoticed)."""
import math
import os
import subprocess
import sys
import time
import unittest

import matrix
from fixtures import MILTER_CONFIG, PolicydStack, new_workdir, remove_workdir
from harness import processes
from harness.pki import TestPki
from harness.ports import wait_until
from harness.prometheus import Prometheus
from harness.smtp import raw_session, swaks
from test_auth_postfix import AUTH_YAML, VERIFY_TIMEOUT, AuthWorld, send as send_world

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "grafana"))
import dashboard_queries as dq  # noqa: E402
from authworld import world  # noqa: E402

STORE_YAML = """\
store:
  path: {store}
  flush_seconds: 1
downgrade:
  min_sessions: 3
  min_tls_share: 0.99
  window_days: 30
"""

# Panels (dashboard file, title) whose every series is zero after a healthy run, and why.
EXPECTED_ZERO = {
    ("mailsec-operations.json", "Internal errors"): "mailsec failed nowhere",
    ("mailsec-operations.json", "History store errors"): "the store is healthy",
    ("mailsec-operations.json", "Verifications dropped"): "the queue never fills",
    ("mailsec-authentication.json", "Verifications dropped"): "the queue never fills",
    ("mailsec-operations.json", "Policy connections dropped"):
        "Postfix closes its policy connections before policyd's timeouts",
}

# Rates and totals over the whole test run (Grafana would pass the picked range).
RANGE = "15m"


def hostile_message(directory: str) -> str:
    lines = ["Received: (((((((((( unbalanced by nowhere with"]
    lines += [f"Received: from h{i}.example by h{i + 1}.example with ESMTP id {i}; "
              "Mon, 4 Dec 2023 10:00:00 +0000" for i in range(149)]
    path = os.path.join(directory, "hostile.eml")
    with open(path, "w") as f:
        f.write("\r\n".join(lines) + "\r\nSubject: many hops\r\n\r\nhello\r\n")
    return path


class DashboardStack(PolicydStack):
    def __init__(self, workdir: str, pki, dns, store: str):
        super().__init__(workdir, pki, main_cf={"hopcount_limit": "500"})
        subprocess.run(["postconf", "-c", self.mta.conf, "-e", "inet_protocols = all"],
                       check=True)
        config = (MILTER_CONFIG.format(mx=self.mx_port, sub=self.sub_port)
                  + dns.milter_dns_yaml(timeout_ms=1500, dnssec="validate") + AUTH_YAML
                  + STORE_YAML.format(store=store))
        self.milter = processes.milter(workdir, self.milter_port, self.metrics_port, config)


def sample_values(result: list[dict]) -> list[float]:
    return [float(r["value"][1]) for r in result]


class DashboardQueries(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.world = AuthWorld(cls.workdir)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.store = os.path.join(cls.workdir, "store.sqlite")
        cls.stack = DashboardStack(cls.workdir, cls.pki, cls.world.dns, cls.store)
        try:
            cls.stack.start()
        except Exception:
            cls.world.stop()
            raise
        cls.prom = Prometheus(os.path.join(cls.workdir, "prometheus"), {
            "mailsec-milter": f"127.0.0.1:{cls.stack.metrics_port}",
            "mailsec-policyd": f"127.0.0.1:{cls.stack.policyd_metrics_port}"}, [])
        cls.prom.start()

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        status = cls.stack.stop()
        cls.world.stop()
        remove_workdir(cls.workdir, [status, cls.stack.policyd_status])

    def wait_scraped(self, expr: str, check, what: str, timeout: float = 60.0):
        try:
            return wait_until(lambda: check(self.prom.query(expr)), timeout=timeout,
                              interval=0.5, what=what)
        except TimeoutError:
            self.fail(f"{what}: {expr} = {self.prom.query(expr)}\n"
                      f"milter log tail:\n{self.stack.milter.log()[-3000:]}")

    def run_traffic(self):
        stack = self.stack
        # Prometheus has the counters at their start before anything happens.
        self.wait_scraped('count(up == 1)', lambda r: r and sample_values(r)[0] == 2,
                          "both daemons scraped")
        before_sessions = stack.scrape().total("mailsec_sessions_total")
        matrix.run(stack.mx_port, stack.sub_port, self.pki)
        for m in world.MESSAGES:
            send_world(stack.mx_port, m, self.world.messages[m["id"]])
        swaks(stack.mx_port, data=hostile_message(self.workdir))
        # A HELO longer than a domain may be: mailsec_input_errors_total{kind="helo_too_long"}.
        raw_session(stack.mx_port, [b"EHLO " + b"a" * 300 + b".example", b"QUIT"])
        # A peer with a TLS history, then in cleartext: cleartext_from_tls_peer.
        for tls in (True, True, True, False):
            swaks(stack.mx_port, tls=tls, ehlo="mx1.tls-peer.example",
                  xclient_addr="192.0.2.25", xclient_name="mx1.tls-peer.example",
                  sender="sender@tls-peer.example")
        sessions = matrix.SESSIONS + len(world.MESSAGES) + 1 + 1 + 4
        wait_until(lambda: stack.scrape().total("mailsec_sessions_total") - before_sessions
                   >= sessions, timeout=60, what=f"{sessions} sessions counted")
        methods = len(world.MESSAGES)
        self.wait_scraped('sum(mailsec_auth_methods_total)',
                          lambda r: r and sample_values(r)[0] >= methods,
                          "verdicts scraped", timeout=VERIFY_TIMEOUT + 10)
        self.wait_scraped('sum(mailsec_downgrade_suspected_total'
                          '{signal="cleartext_from_tls_peer"})',
                          lambda r: r and sample_values(r)[0] >= 1, "downgrade scraped")
        self.wait_scraped('sum(mailsec_store_flushes_total)',
                          lambda r: r and sample_values(r)[0] >= 1, "a store flush scraped")
        self.wait_scraped('sum(mailsec_policyd_requests_total)',
                          lambda r: r and sample_values(r)[0] >= 1, "policyd requests scraped")
        time.sleep(3)  # a few scrapes after the last change: every rate has two samples

    def test_every_panel_query_returns_data(self):
        self.run_traffic()
        panels = dq.panels()
        self.assertGreaterEqual(len(panels), 40)
        empty, zero, errors = [], set(), {}
        for board, title, exprs in panels:
            nonzero = False
            for expr in exprs:
                query = dq.for_prometheus(expr, range_=RANGE, rate_interval=RANGE)
                try:
                    result = self.prom.query(query)
                except Exception as e:  # a query Prometheus rejects
                    errors[f"{board}: {title}"] = f"{query}: {e}"
                    continue
                if not result:
                    empty.append(f"{board}: {title}: {query}")
                nonzero |= any(v > 0 for v in sample_values(result) if not math.isnan(v))
            if not nonzero:
                zero.add((board, title))
        self.assertEqual(errors, {}, "queries Prometheus rejects")
        self.assertEqual(empty, [], "panels without data")
        self.assertEqual(sorted(zero), sorted(EXPECTED_ZERO),
                         "panels whose every value is zero after the test traffic")


if __name__ == "__main__":
    unittest.main()
