"""The Debian package, installed: dpkg -i (apt-get -f install for missing dependencies), its
files, conffile, user and units (systemd-analyze verify, offline); the installed mailsec-milter
and mailsec-policyd started directly (CI has no running systemd) as root with --user mailsec
against a private Postfix configured from the packaged snippets; /metrics scraped; a
configuration reload (SIGUSR1) that keeps the counters; an upgrade that keeps an edited conffile
and the running daemons; a clean SIGTERM stop; then dpkg --purge
leaving no process and no file behind (the package's prerm stops the policyd this test leaves
running).

It needs the .deb: MAILSEC_DEB=PATH (scripts/test-deb.sh builds one and runs this test).
Without it, or when a mailsec package is already installed (this test never touches an
installation it did not make), it is skipped; with MAILSEC_DEB_REQUIRED=1 (scripts/test-deb.sh)
those are failures instead. Needs root, like every integration test."""
import glob
import os
import pwd
import re
import signal
import threading
import subprocess
import time
import unittest

from fixtures import new_workdir, remove_workdir
from harness import metrics
from harness.pki import TestPki
from harness.ports import free_port, wait_listening, wait_until
from harness.postfix import Postfix
from harness.processes import Daemon
from harness.smtp import swaks

DEB = os.environ.get("MAILSEC_DEB", "")
REQUIRED = os.environ.get("MAILSEC_DEB_REQUIRED") == "1"
BINARIES = ["/usr/sbin/mailsec-milter", "/usr/sbin/mailsec-policyd", "/usr/bin/mailsec-report",
            "/usr/bin/mailsec-inspect"]
DAEMONS = BINARIES[:2]
UNITS = ["mailsec-milter.service", "mailsec-policyd.service", "mailsec-report-monthly.service",
         "mailsec-report-monthly.timer"]
UNIT_DIR = "/lib/systemd/system"
SHARE = "/usr/share/mailsec"


def run(*argv: str, check: bool = True, **kw) -> subprocess.CompletedProcess:
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError(f"{' '.join(argv)} exited {r.returncode}:\n{r.stdout}\n{r.stderr}")
    return r


def package_status() -> str:
    r = run("dpkg-query", "-W", "-f=${db:Status-Status}", "mailsec", check=False)
    return r.stdout.strip() if r.returncode == 0 else "not-installed"


def running_installed_daemons() -> list[int]:
    """Pids of processes running one of the packaged daemon binaries."""
    pids = []
    for proc in glob.glob("/proc/[0-9]*"):
        try:
            exe = os.readlink(os.path.join(proc, "exe"))
        except OSError:
            continue
        if exe.removesuffix(" (deleted)") in DAEMONS:
            pids.append(int(os.path.basename(proc)))
    return pids


def snippet_settings(path: str, replacements: dict) -> dict:
    """The active `name = value` lines of a packaged main.cf snippet, with addresses replaced."""
    settings = {}
    with open(path) as f:
        for line in f:
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            name, _, value = line.partition("=")
            value = value.strip()
            for old, new in replacements.items():
                value = value.replace(old, new)
            settings[name.strip()] = value
    return settings


@unittest.skipUnless(DEB, "MAILSEC_DEB is not set (scripts/test-deb.sh builds the package)")
class DebianPackageTest(unittest.TestCase):
    """One ordered scenario: install, inspect, run, measure, stop, purge."""

    def setUp(self):
        refuse = self.fail if REQUIRED else self.skipTest
        if os.geteuid() != 0:
            refuse("needs root (dpkg)")
        if package_status() != "not-installed":
            refuse(f"a mailsec package is already on this machine ({package_status()}); "
                   "this test only purges an installation it made itself")
        if running_installed_daemons():
            refuse("an installed mailsec daemon is already running")
        self.workdir = new_workdir("debian-package")
        self.daemons = []
        self.postfix = None
        self.installed = False
        self.addCleanup(self.cleanup)

    def cleanup(self):
        for d in self.daemons:
            d.stop()
        if self.postfix:
            self.postfix.stop()
        if self.installed and package_status() != "not-installed":
            run("dpkg", "--purge", "mailsec", check=False)
        remove_workdir(self.workdir, [])

    def install(self):
        started = time.monotonic()
        self.installed = True
        r = run("dpkg", "-i", DEB, check=False, env={**os.environ,
                                                      "DEBIAN_FRONTEND": "noninteractive"})
        if r.returncode != 0:
            # Missing dependencies leave the package unconfigured: apt pulls them in.
            run("apt-get", "-f", "install", "-y", "-q", "--no-install-recommends",
                env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
        self.assertEqual(package_status(), "installed", r.stdout + r.stderr)
        print(f"installed in {time.monotonic() - started:.1f} s")

    def check_files(self):
        for binary in BINARIES:
            self.assertTrue(os.access(binary, os.X_OK), binary)
            version = run(binary, "--version").stdout
            self.assertRegex(version, r"^mailsec-\w+ \d+\.\d+\.\d+", binary)
            self.assertIn("usage", run(binary, "--help").stdout, binary)
        conffiles = run("dpkg-query", "-W", "-f=${Conffiles}", "mailsec").stdout
        self.assertIn("/etc/mailsec/mailsec.yaml", conffiles)
        pw = pwd.getpwnam("mailsec")
        self.assertTrue(pw.pw_shell.endswith("nologin"), pw.pw_shell)
        st = os.stat("/var/lib/mailsec")
        self.assertEqual((st.st_uid, st.st_mode & 0o777), (pw.pw_uid, 0o750))
        for unit in UNITS:
            self.assertTrue(os.path.isfile(os.path.join(UNIT_DIR, unit)), unit)
        for page in ("man8/mailsec-milter.8.gz", "man8/mailsec-policyd.8.gz",
                     "man1/mailsec-report.1.gz", "man1/mailsec-inspect.1.gz",
                     "man5/mailsec.yaml.5.gz"):
            self.assertTrue(os.path.isfile(f"/usr/share/man/{page}"), page)
        for path in ("postfix/main.cf.snippet", "postfix/policyd.cf.snippet",
                     "sendmail/mailsec.mc", "prometheus/mailsec-rules.yml"):
            self.assertTrue(os.path.isfile(os.path.join(SHARE, path)), path)
        self.assertTrue(glob.glob(f"{SHARE}/grafana/dashboards/*.json"))
        for daemon in DAEMONS:
            out = run(daemon, "--check-config", "--config", "/etc/mailsec/mailsec.yaml").stdout
            self.assertIn("configuration OK", out)

    def check_units(self):
        units = [os.path.join(UNIT_DIR, u) for u in UNITS]
        r = run("systemd-analyze", "verify", "--man=no", *units, check=False)
        # No running systemd here: verify still parses every unit and checks its executables;
        # it must print nothing about our units.
        problems = [line for line in (r.stdout + r.stderr).splitlines() if "mailsec" in line]
        self.assertEqual(problems, [], r.stdout + r.stderr)
        for unit in ("mailsec-milter.service", "mailsec-policyd.service"):
            r = run("systemd-analyze", "security", "--offline=yes", "--no-pager",
                    os.path.join(UNIT_DIR, unit), check=False)
            score = re.search(r"Overall exposure level for \S+: ([\d.]+)", r.stdout)
            self.assertIsNotNone(score, r.stdout + r.stderr)
            print(f"{unit}: systemd-analyze security exposure {score.group(1)}")
            self.assertLessEqual(float(score.group(1)), 3.0, r.stdout)

    def start_daemons(self, milter_port, milter_metrics, policy_port, policy_metrics):
        # The installed configuration, with nothing looked up outside this machine: DNS goes
        # to a loopback port where nothing listens (verification fails open, counted).
        with open("/etc/mailsec/mailsec.yaml") as f:
            text = f.read()
        text, n = re.subn(r"(?m)^  forwarders: \[\]$", f"  forwarders: [127.0.0.1@{free_port()}]",
                          text)
        self.assertEqual(n, 1, "the packaged mailsec.yaml has no dns.forwarders line")
        config = self.config = os.path.join(self.workdir, "mailsec.yaml")
        with open(config, "w") as f:
            f.write(text)
        os.chmod(self.workdir, 0o755)
        os.chmod(config, 0o644)
        # Started as root, as an init system without User= would: --user drops to mailsec.
        milter = Daemon(
            ["/usr/sbin/mailsec-milter", "--config", config, "--socket",
             f"inet:{milter_port}@127.0.0.1", "--metrics-listen", f"127.0.0.1:{milter_metrics}",
             "--log-stderr", "--user", "mailsec"], os.path.join(self.workdir, "milter.log"),
            [milter_port, milter_metrics])
        policyd = Daemon(
            ["/usr/sbin/mailsec-policyd", "--config", config, "--socket",
             f"inet:{policy_port}@127.0.0.1", "--metrics-listen",
             f"127.0.0.1:{policy_metrics}", "--log-stderr", "--user", "mailsec"],
            os.path.join(self.workdir, "policyd.log"), [policy_port, policy_metrics])
        for d in (milter, policyd):
            self.daemons.append(d)
            d.start()
        return milter, policyd

    def test_install_run_purge(self):
        self.install()
        self.check_files()
        self.check_units()

        mx, milter_port, milter_metrics = free_port(), free_port(), free_port()
        policy_port, policy_metrics = free_port(), free_port()
        milter, policyd = self.start_daemons(milter_port, milter_metrics, policy_port,
                                             policy_metrics)
        for pid in running_installed_daemons():
            with open(f"/proc/{pid}/status") as f:
                uid = re.search(r"(?m)^Uid:\s+(\d+)", f.read()).group(1)
            self.assertEqual(int(uid), pwd.getpwnam("mailsec").pw_uid)

        # Postfix from the packaged snippets, pointed at this test's ports.
        main_cf = snippet_settings(f"{SHARE}/postfix/main.cf.snippet",
                                   {"127.0.0.1:8894": f"127.0.0.1:{milter_port}"})
        main_cf.update(snippet_settings(f"{SHARE}/postfix/policyd.cf.snippet",
                                        {"127.0.0.1:10040": f"127.0.0.1:{policy_port}"}))
        self.assertEqual(main_cf["milter_default_action"], "accept")
        self.assertIn("default_action=DUNNO", main_cf["smtpd_client_restrictions"])
        pki = TestPki(os.path.join(self.workdir, "pki"))
        self.postfix = Postfix(os.path.join(self.workdir, "postfix"), mx, pki=pki,
                               main_cf={**main_cf, "smtpd_milters": main_cf["smtpd_milters"]})
        self.postfix.start()

        swaks(mx, tls=True)
        swaks(mx)
        swaks(mx)
        self.postfix.wait_delivered(3)

        def counted(port, source):
            s = metrics.scrape(port)
            return (s.total("mailsec_sessions_total", source=source),
                    s.total("mailsec_messages_total", source=source))

        wait_until(lambda: counted(milter_metrics, "milter")[1] >= 3, timeout=30,
                   what="3 messages counted by the installed milter")

        # A reload (SIGUSR1, what systemctl reload sends): this Postfix's port becomes MX for
        # sessions from now on; the counters carry on.
        with open(self.config) as f:
            text = f.read()
        text, n = re.subn(r"(?m)^    ports: \[25\]$", f"    ports: [25, {mx}]", text)
        self.assertEqual(n, 1, "the packaged mailsec.yaml has no port_classes.mx.ports line")
        with open(self.config, "w") as f:
            f.write(text)
        before = metrics.scrape(milter_metrics)
        self.assertEqual(before.total("mailsec_sessions_total", port_class="mx"), 0)
        milter.proc.send_signal(signal.SIGUSR1)
        wait_until(lambda: "info: reloaded " in milter.log(), timeout=10, what="the reload line")
        swaks(mx, tls=True)
        wait_until(lambda: counted(milter_metrics, "milter")[1] >= 4, timeout=30,
                   what="a 4th message counted after the reload")
        after = metrics.scrape(milter_metrics)
        self.assertEqual(after.total("mailsec_sessions_total", port_class="mx"), 1)
        self.assertEqual(after.total("mailsec_sessions_total", source="milter"),
                         before.total("mailsec_sessions_total", source="milter") + 1)
        self.assertTrue(milter.alive())
        # policyd counts a session when Postfix moves on or closes the policy connection:
        # stopping Postfix closes it.
        self.postfix.stop()
        self.postfix = None
        wait_until(lambda: counted(policy_metrics, "policyd")[0] >= 4, timeout=30,
                   what="4 sessions counted by the installed policyd")
        s = metrics.scrape(milter_metrics)
        self.assertEqual(s.total("mailsec_sessions_total", source="milter", tls="true"), 2)
        self.assertGreaterEqual(s.total("mailsec_build_info"), 1)

        # An upgrade (the same package again): running daemons are left alone (prerm stops
        # them only on removal), an edited conffile is kept.
        with open("/etc/mailsec/mailsec.yaml", "a") as f:
            f.write("# edited by the administrator\n")
        run("dpkg", "-i", "--force-confold", DEB, env={**os.environ,
                                                        "DEBIAN_FRONTEND": "noninteractive"})
        self.assertEqual(package_status(), "installed")
        self.assertTrue(milter.alive() and policyd.alive(), "an upgrade stopped a daemon")
        with open("/etc/mailsec/mailsec.yaml") as f:
            self.assertTrue(f.read().endswith("# edited by the administrator\n"))

        # A clean stop flushes the history store the mailsec user writes.
        self.assertEqual(milter.stop(), 0, milter.log())
        self.assertIn("stopped", milter.log())
        self.assertTrue(os.path.getsize("/var/lib/mailsec/history.sqlite") > 0)

        # policyd is left running: removing the package must stop it. It is this test's child:
        # reap it while dpkg runs, as an init would (the prerm waits until it is gone).
        self.assertTrue(policyd.alive())
        purging = threading.Event()

        def reap():
            while policyd.alive() and not purging.is_set():
                time.sleep(0.05)

        reaper = threading.Thread(target=reap, daemon=True)
        reaper.start()
        started = time.monotonic()
        run("dpkg", "--purge", "mailsec")
        purge_seconds = time.monotonic() - started
        purging.set()
        reaper.join(5)
        print(f"purged in {purge_seconds:.1f} s")
        self.assertLess(purge_seconds, 10, "the prerm waited for policyd to be killed")
        wait_until(lambda: not policyd.alive() and not running_installed_daemons(), timeout=20,
                   what="no installed mailsec daemon running after purge")
        self.assertEqual(package_status(), "not-installed")
        for path in BINARIES + ["/etc/mailsec", "/var/lib/mailsec", SHARE,
                                *(os.path.join(UNIT_DIR, u) for u in UNITS)]:
            self.assertFalse(os.path.exists(path), f"{path} left after purge")
        self.assertFalse(glob.glob("/etc/systemd/system/*/mailsec-*"),
                         "unit symlinks left after purge")


if __name__ == "__main__":
    unittest.main()
