"""Shared fixtures: a private MTA with TLS (Postfix, or Sendmail from a dpkg -x prefix) whose
milter list points at a freshly started mailsec-milter, all on free loopback ports."""
import os
import re
import shutil
import tempfile
import unittest

from harness import metrics, processes
from harness.pki import TestPki
from harness.ports import free_port, wait_until
from harness.postfix import Postfix
from harness.sendmail import MILTER_TIMEOUTS, Sendmail

MILTER_CONFIG = """\
port_classes:
  mx: {{ports: [{mx}]}}
  submission: {{ports: [{sub}]}}
log: {{level: info}}
"""
# MILTER_CONFIG with the history store at {store}, flushed every second.
STORE_CONFIG = MILTER_CONFIG + """\
store:
  path: {store}
  flush_seconds: 1
"""
# Stacks that do not bring the DNS test world (harness/dns.py) measure without verification:
# no test may send DNS queries to the machine's own resolver.
NO_VERIFICATION = "auth: {enabled: false}\n"


def _safe_for_mtas(path: str) -> bool:
    """True when no existing ancestor of `path` is group- or world-writable (Sendmail refuses
    such paths) and every one is searchable by others (Postfix's unprivileged processes walk
    them)."""
    path = os.path.abspath(path)
    while True:
        if os.path.exists(path):
            mode = os.stat(path).st_mode
            if mode & 0o022 or not mode & 0o001:
                return False
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def work_root() -> str:
    """Where test MTAs live: MAILSEC_TEST_TMP, else beside the build, else (a build below /tmp
    or /root, as a CI clone may be) a root-owned directory under /var/lib."""
    root = os.environ.get("MAILSEC_TEST_TMP")
    if not root:
        root = os.path.join(processes.build_dir(), "it")
        if not _safe_for_mtas(root):
            root = os.path.join("/var/lib/mailsec-tests", str(os.getuid()))
    os.makedirs(root, mode=0o755, exist_ok=True)
    return root


def new_workdir(name: str) -> str:
    workdir = tempfile.mkdtemp(prefix=name + "-", dir=work_root())
    os.chmod(workdir, 0o755)
    return workdir


def remove_workdir(workdir: str, milter_statuses) -> None:
    """Removes a work directory unless asked to keep it or a milter did not stop cleanly."""
    if os.environ.get("MAILSEC_KEEP_TEST_DIRS") is None and all(
            status in (0, None, -9) for status in milter_statuses):
        shutil.rmtree(workdir, ignore_errors=True)


# MTA factories: (directory, mx_port, submission_port, milter_port, pki) -> an MTA wired to the
# milter, failing open, with short milter timeouts.

def postfix_mta(directory: str, mx_port: int, sub_port: int, milter_port: int, pki,
                extra_main_cf: dict | None = None) -> Postfix:
    return Postfix(os.path.join(directory, "postfix"), mx_port, pki=pki, submission_port=sub_port,
                   main_cf={
                       "smtpd_milters": f"inet:127.0.0.1:{milter_port}",
                       "milter_default_action": "accept",
                       "milter_protocol": "6",
                       "milter_connect_timeout": "5s",
                       "milter_command_timeout": "10s",
                       "milter_content_timeout": "10s",
                       **(extra_main_cf or {}),
                   })


def sendmail_mta(directory: str, mx_port: int, sub_port: int, milter_port: int,
                 pki) -> Sendmail:
    """Sendmail with a bare INPUT_MAIL_FILTER and its default macro lists: mailsec gets its
    macros only by asking for them (smfi_setsymlist). No F= flag: fail open."""
    return Sendmail(os.path.join(directory, "sendmail"), mx_port, pki=pki,
                    submission_port=sub_port,
                    milters=[("mailsec", f"S=inet:{milter_port}@127.0.0.1, {MILTER_TIMEOUTS}")])


PACKAGED_SENDMAIL_MC = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                    "packaging", "sendmail", "mailsec.mc")


def sendmail_packaged_mta(directory: str, mx_port: int, sub_port: int, milter_port: int,
                          pki) -> Sendmail:
    """Sendmail configured with the snippet operators install (packaging/sendmail/mailsec.mc),
    its socket moved to the test's milter port."""
    with open(PACKAGED_SENDMAIL_MC) as f:
        snippet = f.read()
    if "inet:8894@127.0.0.1" not in snippet:
        raise AssertionError(f"{PACKAGED_SENDMAIL_MC} no longer names inet:8894@127.0.0.1")
    snippet = snippet.replace("inet:8894@127.0.0.1", f"inet:{milter_port}@127.0.0.1")
    return Sendmail(os.path.join(directory, "sendmail"), mx_port, pki=pki,
                    submission_port=sub_port, mc=snippet)


def deltas(before: metrics.Scrape, after: metrics.Scrape, family: str) -> dict:
    """{labels: delta} of every series of `family` that changed between two scrapes."""
    got = {}
    for lab, value in after.series(family).items():
        delta = value - before.series(family).get(lab, 0.0)
        if delta:
            got[lab] = delta
    return got


def readable(series: dict) -> dict:
    return {",".join(f"{k}={v}" for k, v in sorted(lab)): v for lab, v in series.items()}


def wait_more_sessions(scrape, before: metrics.Scrape, count: int, timeout: float, what: str):
    """Waits until `scrape()` shows `count` more sessions than `before`; returns that scrape."""
    base = before.total("mailsec_sessions_total")

    def enough():
        now = scrape()
        return now if now.total("mailsec_sessions_total") - base >= count else None

    return wait_until(enough, timeout=timeout, what=f"{count} more {what} counted")


class MilterStack:
    """One MTA (made by `make_mta`) and the mailsec-milter it talks to, in `workdir`."""

    def __init__(self, workdir: str, make_mta, pki):
        self.workdir = workdir
        self.pki = pki
        self.mx_port, self.sub_port = free_port(), free_port()
        self.milter_port, self.metrics_port = free_port(), free_port()
        self.milter = processes.milter(
            workdir, self.milter_port, self.metrics_port,
            MILTER_CONFIG.format(mx=self.mx_port, sub=self.sub_port) + NO_VERIFICATION)
        self.mta = make_mta(workdir, self.mx_port, self.sub_port, self.milter_port, pki)

    def start(self) -> None:
        self.milter.start()
        try:
            self.mta.start()
        except Exception:
            self.milter.stop()
            raise

    def stop(self) -> int | None:
        """Stops both; returns the milter's exit status."""
        self.mta.stop()
        return self.milter.stop()

    def scrape(self) -> metrics.Scrape:
        return metrics.scrape(self.metrics_port)

    def wait_sessions(self, before: metrics.Scrape, count: int, timeout: float = 30.0):
        """Waits until `count` more sessions were counted than in `before`, then returns a
        scrape. Sessions are counted when the MTA closes the milter connection."""
        return wait_more_sessions(self.scrape, before, count, timeout, "sessions")


class MilterCase(unittest.TestCase):
    """setUpClass starts the MTA that `make_mta` makes and the milter; tests measure deltas
    between scrapes. Subclasses set make_mta (see postfix_mta, sendmail_mta)."""

    make_mta = None

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.stack = MilterStack(cls.workdir, cls.make_mta, cls.pki)
        cls.mx_port, cls.sub_port = cls.stack.mx_port, cls.stack.sub_port
        cls.milter_port, cls.metrics_port = cls.stack.milter_port, cls.stack.metrics_port
        cls.milter, cls.mta = cls.stack.milter, cls.stack.mta
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        remove_workdir(cls.workdir, [cls.stack.stop()])

    def scrape(self) -> metrics.Scrape:
        return self.stack.scrape()

    def wait_sessions(self, before: metrics.Scrape, count: int, timeout: float = 30.0):
        return self.stack.wait_sessions(before, count, timeout)

    def assert_deltas(self, before: metrics.Scrape, after: metrics.Scrape, family: str,
                      want: dict):
        """Every series of `family` that changed changed by exactly what `want` says
        ({labels: delta}), and no other series changed."""
        got = deltas(before, after, family)
        want = {lab: float(v) for lab, v in want.items() if v}
        self.assertEqual(readable(got), readable(want), f"deltas of {family}")


class PostfixMilterCase(MilterCase):
    """A private Postfix wired to mailsec-milter (self.postfix is self.mta)."""

    make_mta = staticmethod(postfix_mta)
    postfix = property(lambda self: self.mta)


class SendmailMilterCase(MilterCase):
    """A private Sendmail 8.17 wired to mailsec-milter (self.sendmail is self.mta)."""

    make_mta = staticmethod(sendmail_mta)
    sendmail = property(lambda self: self.mta)


# mailsec-policyd beside the milter: Postfix configured with the snippet operators install
# (packaging/postfix/policyd.cf.snippet), its socket moved to the test's policy port.

PACKAGED_POSTFIX_POLICYD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                        "packaging", "postfix", "policyd.cf.snippet")
PACKAGED_POLICY_SOCKET = "inet:127.0.0.1:10040"


def postfix_policyd_settings(policy_port: int, *, optional: bool = False) -> dict:
    """The main.cf settings of the packaged policyd snippet, pointed at `policy_port`;
    `optional` also takes its commented-out optional settings."""
    with open(PACKAGED_POSTFIX_POLICYD) as f:
        text = f.read()
    if PACKAGED_POLICY_SOCKET not in text:
        raise AssertionError(f"{PACKAGED_POSTFIX_POLICYD} no longer names {PACKAGED_POLICY_SOCKET}")
    settings = {}
    for line in text.replace(PACKAGED_POLICY_SOCKET, f"inet:127.0.0.1:{policy_port}").splitlines():
        m = re.match(r"^(# )?([a-z_]+) = (.+)$", line)
        if m and (optional or not m.group(1)):
            settings[m.group(2)] = m.group(3)
    return settings


class PolicydStack(MilterStack):
    """A Postfix wired to both mailsec-milter and mailsec-policyd (the packaged snippets), so
    the two daemons see the same traffic. `main_cf` adds or overrides Postfix parameters."""

    def __init__(self, workdir: str, pki, *, optional: bool = False, main_cf: dict | None = None):
        self.policy_port, self.policyd_metrics_port = free_port(), free_port()
        settings = {**postfix_policyd_settings(self.policy_port, optional=optional),
                    **(main_cf or {})}

        def make_mta(directory, mx_port, sub_port, milter_port, pki_):
            return postfix_mta(directory, mx_port, sub_port, milter_port, pki_, settings)

        super().__init__(workdir, make_mta, pki)
        self.policyd = processes.policyd(
            workdir, self.policy_port, self.policyd_metrics_port,
            MILTER_CONFIG.format(mx=self.mx_port, sub=self.sub_port) + NO_VERIFICATION)

    def start(self) -> None:
        self.policyd.start()
        try:
            super().start()
        except Exception:
            self.policyd.stop()
            raise

    def stop(self) -> int | None:
        """Stops everything; returns the milter's exit status (policyd_status has its own)."""
        status = super().stop()
        self.policyd_status = self.policyd.stop()
        return status

    def scrape_policyd(self) -> metrics.Scrape:
        return metrics.scrape(self.policyd_metrics_port)

    def wait_policyd_sessions(self, before: metrics.Scrape, count: int, timeout: float = 30.0):
        """Waits until policyd counted `count` more sessions than in `before`; returns a scrape.
        policyd counts a session when its smtpd's policy connection carries the next client or
        closes (smtpd_policy_service_max_idle), after a short grace."""
        return wait_more_sessions(self.scrape_policyd, before, count, timeout, "policyd sessions")
