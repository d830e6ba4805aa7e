"""Issue 8 end to end: a history store filled by a real test run (Postfix + mailsec-milter, known
traffic from distinct peers) gives a monthly adoption report (mailsec-report --month) whose
numbers are the traffic sent; the same report built from a real Prometheus that scraped the
milter (--prometheus) has the same inbound numbers; the HTML renders in Debian's headless
Chromium without console errors, its screenshot is not blank (checked with Pillow under
Debian's /usr/bin/python3), and it prints to PDF. An empty month and an unreachable
Prometheus exit 1 and write nothing.

Peers are told apart by their HELO names (downgrade.identity_sources includes helo): without
XCLIENT every session is one milter session."""
import datetime
import glob
import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import time
import unittest

from fixtures import (MILTER_CONFIG, NO_VERIFICATION, MilterStack, new_workdir, postfix_mta,
                      remove_workdir)
from harness import processes
from harness.pki import TestPki
from harness.ports import free_port, wait_until
from harness.prometheus import Prometheus
from harness.smtp import raw_session, swaks

DEBIAN_PYTHON = "/usr/bin/python3"
CHROMIUM = "/usr/bin/chromium"

STORE_YAML = """\
store:
  path: {store}
  flush_seconds: 1
downgrade:
  min_sessions: 3
  min_tls_share: 0.99
  window_days: 30
  identity_sources: [rdns, helo]
"""

TLS13 = dict(tls13_suite="TLS_AES_256_GCM_SHA384")
TLS12 = dict(tls=True, protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
PLAIN = dict()

# (HELO, session kind) in the order sent; each swaks session sends one message.
TRAFFIC = (
    [("mx1.alpha.example", TLS13)] * 3
    + [("mx.beta.example", TLS12)] * 2 + [("mx.beta.example", PLAIN)]
    + [("mx.gamma.example", PLAIN)] * 2
    # delta's history is TLS; then a cleartext session: cleartext_from_tls_peer
    + [("mx.delta.example", TLS13)] * 3 + [("mx.delta.example", PLAIN)]
)
# Inbound (MX) numbers the traffic must give: the swaks sessions and one masked-STARTTLS
# session without a message. The submission session is not inbound.
SESSIONS = len(TRAFFIC) + 1
TLS_SESSIONS = sum(1 for _, kind in TRAFFIC if kind)
MESSAGES = len(TRAFFIC)
TLS_MESSAGES = TLS_SESSIONS
PEERS = {  # domain: (messages, over TLS)
    "alpha.example": (3, 3), "beta.example": (3, 2), "gamma.example": (2, 0),
    "delta.example": (4, 3)}

PIXELS = """\
import sys
from PIL import Image
im = Image.open(sys.argv[1]).convert("RGB")
w, h = im.size
px = im.load()
nonwhite = chart = 0
for y in range(0, h, 2):
    for x in range(0, w, 2):
        r, g, b = px[x, y]
        if r < 240 or g < 240 or b < 240:
            nonwhite += 1
        if abs(r - 0x1f) < 30 and abs(g - 0x5f) < 30 and abs(b - 0x99) < 30:
            chart += 1
print(w, h, nonwhite, chart, (w // 2 + w % 2) * (h // 2 + h % 2))
"""


def store_sessions(path: str) -> int:
    if not os.path.exists(path):
        return 0
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return int(db.execute("SELECT coalesce(sum(sessions), 0) FROM session_rollups "
                              "WHERE port_class = 'mx'").fetchone()[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        db.close()


class AdoptionReportTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.store = os.path.join(cls.workdir, "store.sqlite")
        cls.stack = MilterStack(cls.workdir, postfix_mta, cls.pki)
        cls.stack.milter = processes.milter(
            cls.workdir, cls.stack.milter_port, cls.stack.metrics_port,
            MILTER_CONFIG.format(mx=cls.stack.mx_port, sub=cls.stack.sub_port)
            + STORE_YAML.format(store=cls.store) + NO_VERIFICATION)
        cls.stack.start()
        cls.prom = Prometheus(os.path.join(cls.workdir, "prometheus"),
                              {"mailsec-milter": f"127.0.0.1:{cls.stack.metrics_port}"}, [])
        cls.status = None
        try:
            cls.prom.start()
            cls.run_traffic()
        except Exception:
            cls.prom.stop()
            cls.stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.prom.stop()
        status = cls.stack.stop() if cls.status is None else cls.status
        remove_workdir(cls.workdir, [status])

    @classmethod
    def run_traffic(cls):
        stack = cls.stack
        started = time.monotonic()
        wait_until(lambda: cls.prom.query("mailsec_sessions_total"), timeout=30,
                   what="prometheus scraped the milter")
        cls.month = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m")
        cls.today = datetime.datetime.now(datetime.timezone.utc).date()
        for helo, kind in TRAFFIC:
            domain = helo.split(".", 1)[1]
            swaks(stack.mx_port, ehlo=helo, sender=f"sender@{domain}", **kind)
        swaks(stack.sub_port, ehlo="laptop.submitter.example", **TLS13)
        raw_session(stack.mx_port, [b"EHLO mx.masked.example", b"XXXXXXXX", b"QUIT"])
        wait_until(lambda: store_sessions(cls.store) >= SESSIONS, timeout=30, interval=0.2,
                   what=f"{SESSIONS} inbound sessions in the store")

        def scraped():
            r = cls.prom.query('sum(mailsec_sessions_total{port_class="mx"})')
            return r and float(r[0]["value"][1]) >= SESSIONS
        wait_until(scraped, timeout=30, what="prometheus scraped every session")
        # Prometheus's increase() extrapolates by up to about one scrape interval's slope:
        # a long sampled span keeps that far below one session.
        time.sleep(max(0.0, 45 - (time.monotonic() - started)))

    def report(self, *args: str) -> subprocess.CompletedProcess:
        binary = os.path.join(processes.build_dir(), "report", "mailsec-report")
        return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120)

    def month_report(self, out: str, *source: str) -> dict:
        r = self.report("--month", self.month, "--out", out, *source)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, f"mailsec-adoption-{self.month}.json")) as f:
            return json.load(f)

    def assert_inbound_numbers(self, got: dict, tls13: int):
        """`tls13`: TLS 1.3 sessions in the TLS tables (Prometheus's TLS family has no port
        class, so its tables also count the submission session)."""
        self.assertEqual(got["month"], self.month)
        t = got["totals"]
        self.assertEqual((t["sessions"], t["tls_sessions"], t["messages"], t["tls_messages"]),
                         (SESSIONS, TLS_SESSIONS, MESSAGES, TLS_MESSAGES))
        day = next(d for d in got["daily"] if d["day"] == self.today.isoformat())
        self.assertEqual((day["sessions"], day["tls_sessions"]), (SESSIONS, TLS_SESSIONS))
        self.assertEqual(day["weekend"], self.today.weekday() >= 5)
        self.assertEqual(sum(d["sessions"] for d in got["daily"]), SESSIONS)
        split = "weekends" if self.today.weekday() >= 5 else "weekdays"
        self.assertEqual((got[split]["sessions"], got[split]["tls_sessions"]),
                         (SESSIONS, TLS_SESSIONS))
        versions = {r["key"][0]: r["count"] for r in got["tables"]["tls_versions"]["rows"]}
        self.assertEqual(versions, {"TLSv1.3": tls13, "TLSv1.2": 2})
        classes = {r["key"][0]: r["count"] for r in got["tables"]["cipher_classes"]["rows"]}
        self.assertEqual(classes, {"recommended": tls13 + 2})
        signals = {r["key"][0]: r["count"] for r in got["tables"]["downgrades"]["rows"]}
        self.assertEqual(signals, {"cleartext_from_tls_peer": 1, "starttls_masked": 1})

    def test_store_report_matches_the_traffic_and_renders_in_chromium(self):
        out = os.path.join(self.workdir, "report-store")
        got = self.month_report(out, "--store", self.store)
        self.assert_inbound_numbers(got, tls13=6)
        self.assertEqual(got["totals"]["session_share"], TLS_SESSIONS / SESSIONS)
        self.assertEqual(got["tables"]["tls_versions"]["denominator"], "TLS sessions on MX ports")
        self.assertEqual(got["tables"]["tls_versions"]["total"], TLS_SESSIONS)
        self.assertEqual(got["tables"]["auth_methods"]["total"], MESSAGES)
        self.assertFalse(got["tables"]["cipher_suites"]["available"])
        self.assertEqual(got["previous_totals"]["sessions"], 0)
        peers = {p["domain"]: (p["messages"], p["tls_messages"]) for p in got["peers"]["rows"]}
        for domain, want in PEERS.items():
            self.assertEqual(peers.get(domain), want, f"{domain} in {peers}")
        self.assertEqual(got["peers"]["rows"][0]["domain"], "delta.example")  # the most mail
        self.assertEqual(got["peers"]["all_tls"],
                         sum(1 for p in got["peers"]["rows"] if p["tls_messages"] == p["messages"]))
        self.assertIn("alpha.example", [p["domain"] for p in got["peers"]["rows"] if p["all_tls"]])
        events = {(e["peer_domain"], e["signal"]): e["count"] for e in got["downgrade_events"]}
        self.assertEqual(events, {("delta.example", "cleartext_from_tls_peer"): 1,
                                  ("masked.example", "starttls_masked"): 1})

        files = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out, "*")))
        for name in ("html", "md", "json", "daily.csv", "tls_versions.csv", "peers.csv",
                     "downgrade_events.csv", "auth_methods.csv"):
            self.assertTrue(any(f.endswith(name) for f in files), f"{name} in {files}")
        with open(os.path.join(out, f"mailsec-adoption-{self.month}-tls_versions.csv")) as f:
            rows = f.read().splitlines()
        self.assertEqual(rows[1].split(",")[:2], ["TLSv1.3", "6"])
        with open(os.path.join(out, f"mailsec-adoption-{self.month}.md")) as f:
            md = f.read()
        self.assertIn(f"| Inbound sessions over TLS | {100 * TLS_SESSIONS / SESSIONS:.1f}% "
                      f"({TLS_SESSIONS} of {SESSIONS}) |", md)
        self.render_in_chromium(os.path.join(out, f"mailsec-adoption-{self.month}.html"))

    def render_in_chromium(self, html: str):
        with open(html) as f:
            page = f.read()
        self.assertNotIn("<script", page)
        self.assertNotRegex(page, r'(src|href)="(https?:)?//', "no external asset")
        profile = tempfile.mkdtemp(prefix="chromium-", dir=self.workdir)
        shot = os.path.join(self.workdir, "report.png")
        argv = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
                "--window-size=1200,2000"]
        r = subprocess.run(argv + [f"--screenshot={shot}", "file://" + html],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 0, r.stderr[-3000:])
        console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
        self.assertEqual(console, [], "console messages while rendering")
        dom = subprocess.run(argv + ["--dump-dom", "file://" + html], capture_output=True,
                             text=True, timeout=120)
        self.assertEqual(dom.returncode, 0, dom.stderr[-3000:])
        self.assertIn(f"Mail transport security, {self.month}", dom.stdout)
        self.assertEqual(dom.stdout.count("<svg"), page.count("<svg"))
        self.assertGreaterEqual(page.count("<svg"), 8)
        # It prints: Chromium's print path (the page's print styles) gives a PDF.
        pdf = os.path.join(self.workdir, "report.pdf")
        printed = subprocess.run(argv + ["--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                                         "file://" + html], capture_output=True, text=True,
                                 timeout=120)
        self.assertEqual(printed.returncode, 0, printed.stderr[-3000:])
        with open(pdf, "rb") as f:
            head = f.read(5)
        self.assertEqual(head, b"%PDF-")
        self.assertGreater(os.path.getsize(pdf), 10000)
        # Keep the screenshot where a person can look at it.
        kept = os.path.join(processes.build_dir(), "adoption-report-screenshot.png")
        shutil.copyfile(shot, kept)
        pixels = subprocess.run([DEBIAN_PYTHON, "-c", PIXELS, shot], capture_output=True,
                                text=True, timeout=60)
        self.assertEqual(pixels.returncode, 0, pixels.stderr)
        w, h, nonwhite, chart, total = map(int, pixels.stdout.split())
        self.assertEqual((w, h), (1200, 2000))
        self.assertGreater(nonwhite / total, 0.03, f"screenshot {kept} is nearly blank")
        self.assertGreater(chart, 200, f"screenshot {kept} shows no chart colour")

    def test_prometheus_report_has_the_same_inbound_numbers(self):
        out = os.path.join(self.workdir, "report-prometheus")
        got = self.month_report(out, "--prometheus", f"http://127.0.0.1:{self.prom.port}")
        self.assert_inbound_numbers(got, tls13=7)
        suites = {tuple(r["key"]): r["count"] for r in got["tables"]["cipher_suites"]["rows"]}
        self.assertEqual(suites, {
            ("TLSv1.3", "any", "AES-256-GCM", "AEAD", "true", "recommended"): 7,
            ("TLSv1.2", "ECDHE", "AES-128-GCM", "AEAD", "true", "recommended"): 2,
        })
        self.assertEqual(got["tables"]["cipher_suites"]["denominator"],
                         "TLS sessions (all ports)")
        self.assertFalse(got["peers"]["available"])
        self.assertIsNone(got["downgrade_events"])

    def test_empty_month_and_unreachable_prometheus_fail_clearly(self):
        out = os.path.join(self.workdir, "report-empty")
        r = self.report("--month", "2001-01", "--store", self.store, "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("no traffic recorded for 2001-01", r.stderr)
        self.assertFalse(os.path.exists(out))
        r = self.report("--month", self.month, "--prometheus", f"http://127.0.0.1:{free_port()}",
                        "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("cannot reach Prometheus at http://127.0.0.1:", r.stderr)
        self.assertFalse(os.path.exists(out))
        r = self.report("--month", self.month, "--store",
                        os.path.join(self.workdir, "missing.sqlite"), "--out", out)
        self.assertEqual(r.returncode, 1)
        self.assertIn("does not exist", r.stderr)


if __name__ == "__main__":
    unittest.main()
