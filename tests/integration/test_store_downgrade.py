"""Issue 7 end to end: the history store survives restarts (and a kill -9 loses at most one
flush interval), and a real Prometheus fires the downgrade alert of
packaging/prometheus/mailsec-rules.yml when a peer that has sent over TLS arrives in cleartext,
while mailsec-report --downgrades names the peer.

One private Postfix (XCLIENT from loopback presents distinct peers: NAME= is the verified
client name the milter files the peer under) and one mailsec-milter per test on the port the
Postfix points at, each with its own store.

StorePerPeerVerdictsTest: with verification against the DNS test world (authworld/), every
message's row in message_rollups carries its peer's organisation domain, its Received path
class and its SPF, DKIM, DMARC, DMARC policy and auth method as the world's table says, once
per message; mailsec-report --month then has no "nothing recorded" note for them."""
import datetime
import json
import os
import sqlite3
import subprocess
import time
import unittest

from fixtures import STORE_CONFIG, new_workdir, postfix_mta, remove_workdir
from harness import metrics, processes
from harness.pki import TestPki
from harness.ports import free_port, wait_until
from harness.prometheus import Prometheus
from harness.smtp import swaks
from test_auth_postfix import AUTH_YAML, VERIFY_TIMEOUT, AuthWorld
from authworld import world

RULES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "packaging",
                     "prometheus", "mailsec-rules.yml")

BASE_CONFIG = STORE_CONFIG
CONFIG = BASE_CONFIG + """\
downgrade:
  min_sessions: {min_sessions}
  min_tls_share: 0.99
  window_days: 30
auth: {{enabled: false}}  # no DNS world here: never ask the machine's own resolver
"""

CLEARTEXT = "cleartext_from_tls_peer"


def store_sessions(path: str, domain: str, peer_source: str = "rdns") -> int:
    """Sessions the store holds for a peer domain identified by its (XCLIENT) verified name,
    over all days and dimensions. (swaks' session before XCLIENT is filed under its HELO.)"""
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        row = db.execute("SELECT coalesce(sum(sessions), 0) FROM session_rollups "
                         "WHERE peer_domain = ? AND peer_source = ?",
                         (domain, peer_source)).fetchone()
        return int(row[0])
    except sqlite3.OperationalError:  # not created yet
        return 0
    finally:
        db.close()


def integrity(path: str) -> str:
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return db.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        db.close()


class StoreAndDowngradeTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.mx_port, cls.sub_port = free_port(), free_port()
        cls.milter_port, cls.metrics_port = free_port(), free_port()
        cls.mta = postfix_mta(cls.workdir, cls.mx_port, cls.sub_port, cls.milter_port, cls.pki)
        cls.mta.start()
        cls.statuses = []

    @classmethod
    def tearDownClass(cls):
        cls.mta.stop()
        remove_workdir(cls.workdir, cls.statuses)

    def setUp(self):
        self.store = os.path.join(self.workdir, f"{self._testMethodName}.sqlite")
        self.milter = None

    def tearDown(self):
        if self.milter is not None and self.milter.alive():
            self.statuses.append(self.milter.stop())

    def start_milter(self, min_sessions: int = 3):
        workdir = os.path.join(self.workdir, self._testMethodName)
        os.makedirs(workdir, exist_ok=True)
        self.milter = processes.milter(
            workdir, self.milter_port, self.metrics_port,
            CONFIG.format(mx=self.mx_port, sub=self.sub_port, store=self.store,
                          min_sessions=min_sessions))
        self.milter.start()

    def scrape(self) -> metrics.Scrape:
        return metrics.scrape(self.metrics_port)

    def send(self, peer: str, tls: bool, count: int = 1):
        """`count` sessions of one message each from the host `peer` (XCLIENT NAME)."""
        for _ in range(count):
            swaks(self.mx_port, tls=tls, ehlo=peer, xclient_addr="192.0.2.25",
                  xclient_name=peer, sender="sender@" + peer.split(".", 1)[1])

    def wait_store(self, domain: str, want: int, timeout: float = 15.0) -> int:
        def reached():
            n = store_sessions(self.store, domain)
            return n if n >= want else None
        try:
            return wait_until(reached, timeout=timeout, interval=0.2,
                              what=f"{want} sessions of {domain} in the store")
        except TimeoutError:
            self.fail(f"store holds {store_sessions(self.store, domain)} sessions of {domain}, "
                      f"want {want}\n{self.milter.log()}")

    def downgrades(self, scrape: metrics.Scrape, signal: str = CLEARTEXT) -> float:
        return scrape.total("mailsec_downgrade_suspected_total", signal=signal)

    def report(self, *args: str) -> subprocess.CompletedProcess:
        binary = os.path.join(processes.build_dir(), "report", "mailsec-report")
        return subprocess.run([binary, "--downgrades", "--store", self.store, *args],
                              capture_output=True, text=True, timeout=30)

    def test_counts_add_up_across_a_restart_and_history_is_reloaded(self):
        self.start_milter(min_sessions=3)
        self.send("mx1.restart-peer.example", tls=True, count=3)
        self.wait_store("restart-peer.example", 3)
        self.statuses.append(self.milter.stop())
        self.assertEqual(store_sessions(self.store, "restart-peer.example"), 3)

        # A new process: its history comes from the store, so the very first cleartext session
        # from the TLS peer is suspected.
        self.start_milter(min_sessions=3)
        self.send("mx2.restart-peer.example", tls=False)
        wait_until(lambda: self.downgrades(self.scrape()) == 1, timeout=15,
                   what="the downgrade counted after the restart")
        self.send("mx1.restart-peer.example", tls=True)
        self.wait_store("restart-peer.example", 5)
        self.statuses.append(self.milter.stop())  # SIGTERM: the last flush
        self.assertEqual(store_sessions(self.store, "restart-peer.example"), 5,
                         "3 before the restart + 2 after")
        out = self.report()
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("restart-peer.example", out.stdout)
        # Every message's Received path reached the store through the same chain.
        db = sqlite3.connect(f"file:{self.store}?mode=ro", uri=True)
        paths = db.execute("SELECT coalesce(sum(messages), 0) FROM path_rollups").fetchone()[0]
        db.close()
        self.assertEqual(paths, 5, "one path per message, 3 before the restart + 2 after")

    def test_kill_9_loses_at_most_one_flush_interval(self):
        self.start_milter()
        self.send("mx.killed-peer.example", tls=True, count=2)
        self.wait_store("killed-peer.example", 2)
        time.sleep(1.5)  # more than one flush interval with nothing new
        self.milter.kill()  # SIGKILL: no last flush
        self.assertEqual(store_sessions(self.store, "killed-peer.example"), 2,
                         "what was flushed before the kill is all there")

        # Sessions counted within the last interval before a kill may be lost, never more.
        self.start_milter()
        before = self.scrape()
        self.send("mx.killed-peer.example", tls=True)
        wait_until(lambda: self.scrape().total("mailsec_sessions_total") >
                   before.total("mailsec_sessions_total"), timeout=15, what="session counted")
        self.milter.kill()
        self.assertIn(store_sessions(self.store, "killed-peer.example"), (2, 3))
        self.assertEqual(integrity(self.store), "ok", "a kill -9 never corrupts the store")

        self.start_milter()
        self.send("mx.killed-peer.example", tls=True)
        self.statuses.append(self.milter.stop())
        self.assertIn(store_sessions(self.store, "killed-peer.example"), (3, 4))

    def test_a_failing_store_is_counted_retried_and_prometheus_goes_on(self):
        # The store's directory does not exist yet: every flush fails to open it.
        missing = os.path.join(self.workdir, "not-yet")
        self.store = os.path.join(missing, "history.sqlite")
        self.start_milter()
        before = self.scrape()
        self.send("mx.patient-peer.example", tls=True, count=2)
        wait_until(lambda: self.scrape().total("mailsec_sessions_total") -
                   before.total("mailsec_sessions_total") >= 4, timeout=15,
                   what="Prometheus counts the sessions without a store")
        wait_until(lambda: self.scrape().value("mailsec_store_errors_total", kind="open") >= 2,
                   timeout=15, what="the failed opens counted")
        self.assertEqual(self.scrape().total("mailsec_store_flushes_total"), 0)
        self.assertIn(f"store {self.store}: cannot open", self.milter.log())
        # The operator creates the directory: the next flush opens the store and writes what
        # was kept from the failed ones.
        os.makedirs(missing)
        self.wait_store("patient-peer.example", 2)
        self.assertGreater(self.scrape().total("mailsec_store_flushes_total"), 0)
        self.statuses.append(self.milter.stop())

    def test_downgrade_alert_fires_in_prometheus_and_the_report_names_the_peer(self):
        self.start_milter(min_sessions=5)
        prom = Prometheus(os.path.join(self.workdir, "prometheus"),
                          {"mailsec-milter": f"127.0.0.1:{self.metrics_port}"}, [RULES])
        prom.start()
        try:
            # Prometheus has seen the counters at zero before anything happens.
            wait_until(lambda: prom.query('mailsec_downgrade_suspected_total'
                                          '{signal="cleartext_from_tls_peer"}'),
                       timeout=30, what="prometheus scraped the milter")
            self.send("mx1.tls-peer.example", tls=True, count=5)
            # A peer that always sends in cleartext is no downgrade.
            self.send("mx.plain-peer.example", tls=False, count=6)
            self.wait_store("plain-peer.example", 6)
            self.assertEqual(self.downgrades(self.scrape()), 0)
            time.sleep(2)  # a couple of scrapes at zero
            self.assertEqual(
                [a for a in prom.alerts() if a["labels"]["alertname"].startswith("MailsecDowngrade")],
                [], "no downgrade alert before the downgrade")

            self.send("mx2.tls-peer.example", tls=False)
            wait_until(lambda: self.downgrades(self.scrape()) == 1, timeout=15,
                       what="the downgrade counted by the milter")

            def firing():
                for a in prom.alerts():
                    if (a["labels"].get("alertname") == "MailsecDowngradeSuspected"
                            and a["labels"].get("signal") == CLEARTEXT
                            and a["state"] == "firing"):
                        return a
                return None
            try:
                alert = wait_until(firing, timeout=30, interval=0.5,
                                   what="MailsecDowngradeSuspected firing")
            except TimeoutError:
                self.fail(f"alerts: {prom.alerts()}\n{prom.log()[-3000:]}")
            self.assertEqual(alert["labels"]["severity"], "warning")
            self.assertIn("mailsec-report --downgrades", alert["annotations"]["description"])
            self.assertNotIn("peer", alert["labels"], "peers are never labels")
            spike = [a for a in prom.alerts() if a["labels"]["alertname"] == "MailsecDowngradeSpike"]
            self.assertEqual(spike, [], "one downgrade is no spike")
        finally:
            prom.stop()

        def reported():
            out = self.report()
            return out if "tls-peer.example" in out.stdout else None
        try:
            out = wait_until(reported, timeout=15, interval=0.5, what="the report names the peer")
        except TimeoutError:
            self.fail(f"report: {self.report().stdout}\n{self.milter.log()}")
        line = next(l for l in out.stdout.splitlines() if "tls-peer.example" in l)
        self.assertIn(CLEARTEXT, line)
        self.assertIn("reverse DNS", line)
        self.assertNotIn("plain-peer.example", out.stdout)


if __name__ == "__main__":
    unittest.main()

# (message of the world's table, HELO, STARTTLS): without a verified client name (XCLIENT
# NAME=[UNAVAILABLE]) each message is filed under its HELO's organisation domain.
PER_PEER = [
    ("aligned-pass", "mx1.alpha-peer.test", True),
    ("spoofed-reject", "mx.beta-peer.test", False),
    ("softfail-quarantine", "mx.beta-peer.test", False),
]


def expected_columns(m: dict) -> tuple:
    """The verdict columns the store keeps for a message of the world's table: DKIM pass when
    any signature passed, else the first signature's result, "none" without one."""
    dkim = [result for result, _ in m["dkim"]]
    dkim_column = "pass" if "pass" in dkim else (dkim[0] if dkim else "none")
    return (m["spf"][0], dkim_column, m["dmarc"][0], m["dmarc"][1], m["method"])


def message_rows(path: str, domains: tuple) -> dict:
    if not os.path.exists(path):
        return {}
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        marks = ",".join("?" * len(domains))
        rows = db.execute(
            "SELECT peer_domain, peer_source, tls, path, spf, dkim, dmarc, dmarc_policy, "
            f"auth_method, sum(messages) FROM message_rollups WHERE peer_domain IN ({marks}) "
            "GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9", domains).fetchall()
        return {tuple(r[:-1]): r[-1] for r in rows}
    except sqlite3.OperationalError:  # not created yet
        return {}
    finally:
        db.close()


class StorePerPeerVerdictsTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.world = AuthWorld(cls.workdir)
        cls.statuses = []
        try:
            cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
            cls.mx_port, cls.sub_port = free_port(), free_port()
            cls.milter_port, cls.metrics_port = free_port(), free_port()
            cls.store = os.path.join(cls.workdir, "store.sqlite")
            cls.mta = postfix_mta(cls.workdir, cls.mx_port, cls.sub_port, cls.milter_port,
                                  cls.pki)
            cls.milter = processes.milter(
                cls.workdir, cls.milter_port, cls.metrics_port,
                BASE_CONFIG.format(mx=cls.mx_port, sub=cls.sub_port, store=cls.store)
                + cls.world.dns.milter_dns_yaml(timeout_ms=1500, dnssec="validate")
                + AUTH_YAML)
            cls.milter.start()
            cls.mta.start()
        except Exception:
            cls.world.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mta.stop()
        if cls.milter.alive():
            cls.statuses.append(cls.milter.stop())
        cls.world.stop()
        remove_workdir(cls.workdir, cls.statuses)

    def test_message_rows_carry_each_peers_path_and_verdicts(self):
        table = {m["id"]: m for m in world.MESSAGES}
        want = {}
        for mid, helo, tls in PER_PEER:
            m = table[mid]
            swaks(self.mx_port, tls=tls, sender=m["mail_from"], ehlo=helo,
                  data=self.world.messages[mid], xclient_addr=m["ip"],
                  xclient_name="[UNAVAILABLE]")
            # No Received header in the world's messages: the path is the inbound hop alone.
            key = (helo.split(".", 1)[1], "helo", int(tls), "all_tls" if tls else "cleartext_hop",
                   *expected_columns(m))
            want[key] = want.get(key, 0) + 1
        domains = tuple(sorted({k[0] for k in want}))
        try:
            wait_until(lambda: sum(message_rows(self.store, domains).values()) >= len(PER_PEER),
                       timeout=VERIFY_TIMEOUT, interval=0.25,
                       what="the verified messages in the store")
        except TimeoutError:
            self.fail(f"store rows {message_rows(self.store, domains)}, want {want}\n"
                      f"{self.milter.log()[-3000:]}")
        time.sleep(1.5)  # one more flush: nothing may be counted twice
        self.assertEqual(message_rows(self.store, domains), want)

        # The monthly report reads the columns: real verdicts, so no "nothing recorded" note.
        month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
        out = os.path.join(self.workdir, "report")
        binary = os.path.join(processes.build_dir(), "report", "mailsec-report")
        r = subprocess.run([binary, "--month", month, "--store", self.store, "--source",
                            "milter", "--out", out], capture_output=True, text=True, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, f"mailsec-adoption-{month}.json")) as f:
            got = json.load(f)
        for name in ("spf_results", "dkim_results", "dmarc_results", "dmarc_policies",
                     "auth_methods", "received_paths"):
            t = got["tables"][name]
            self.assertNotIn("nothing recorded", t.get("note") or "", name)
        methods = {r["key"][0]: r["count"] for r in got["tables"]["auth_methods"]["rows"]}
        self.assertEqual(methods, {"dkim_and_spf": 1, "none": 2})

