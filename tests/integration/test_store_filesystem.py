"""The history store on a real filesystem that fills up and then turns read-only under a running
mailsec-milter (a 4 MiB tmpfs mounted in the test's work directory; the tests run as root).
Mail goes through a private Postfix the whole time: Postfix delivers every message, Prometheus
counts every session and message exactly, mailsec_store_errors_total counts the failures under
the kind the operator's runbook names (docs/operations.md), the milter logs a line naming the
store, and once the filesystem is usable again the store catches up with every session and
message that was kept while it failed.

`mount -o remount,ro` is refused (EBUSY) while a process holds a file of the filesystem open for
writing, as the milter's writer does with a healthy store: a filesystem cannot be made read-only
under a working store by an operator, only by the kernel. After a failed flush the writer closes
the store and reopens it at the next flush (metrics/store/store_writer.cc), so the read-only
phase fills the filesystem first, and remounts it once the writer has let go of it."""
import errno
import os
import re
import sqlite3
import subprocess
import time
import unittest

from fixtures import NO_VERIFICATION, STORE_CONFIG, new_workdir, postfix_mta, remove_workdir
from harness import metrics, processes
from harness.pki import TestPki
from harness.ports import free_port, wait_until
from harness.smtp import swaks

M = "milter"
CONFIG = STORE_CONFIG
FS_SIZE = "4m"
WARNING = "Prometheus counting goes on; retrying at the next flush)"


def store_totals(path: str) -> tuple[int, int]:
    """(sessions, messages) the store holds, over every day, peer and dimension."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        sessions = db.execute("SELECT coalesce(sum(sessions), 0) FROM session_rollups")
        messages = db.execute("SELECT coalesce(sum(messages), 0) FROM message_rollups")
        return int(sessions.fetchone()[0]), int(messages.fetchone()[0])
    except sqlite3.OperationalError as e:  # locked by the writer's checkpoint, or not there
        return (-1, str(e))
    finally:
        db.close()


def mount(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["mount", *args], capture_output=True, text=True)


def mounting_refused() -> str | None:
    """Why a tmpfs cannot be mounted here (None when it can): checked, not assumed."""
    if os.geteuid() != 0:
        return "mounting a tmpfs needs root"
    probe = new_workdir("mount-probe")
    try:
        r = mount("-t", "tmpfs", "-o", "size=64k", "tmpfs", probe)
        if r.returncode != 0:
            return f"mount -t tmpfs is not permitted here: {r.stderr.strip()}"
        subprocess.run(["umount", probe], check=True)
        return None
    finally:
        os.rmdir(probe)


REFUSED = mounting_refused()


@unittest.skipIf(REFUSED is not None, REFUSED or "")
class StoreOnAFullThenReadOnlyFilesystem(unittest.TestCase):

    def setUp(self):
        self.workdir = new_workdir(type(self).__name__)
        self.statuses = []
        self.mnt = os.path.join(self.workdir, "store-fs")
        os.makedirs(self.mnt)
        r = mount("-t", "tmpfs", "-o", f"size={FS_SIZE},mode=0755", "tmpfs", self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.store = os.path.join(self.mnt, "history.sqlite")
        self.filler = os.path.join(self.mnt, "filler")
        self.pki = TestPki(os.path.join(self.workdir, "pki"))
        self.mx_port, self.sub_port = free_port(), free_port()
        self.milter_port, self.metrics_port = free_port(), free_port()
        self.milter = processes.milter(
            self.workdir, self.milter_port, self.metrics_port,
            CONFIG.format(mx=self.mx_port, sub=self.sub_port, store=self.store)
            + NO_VERIFICATION)
        self.mta = postfix_mta(self.workdir, self.mx_port, self.sub_port, self.milter_port,
                               self.pki)
        self.milter.start()
        self.mta.start()
        self.sent = 0  # swaks transactions: 2 milter sessions (before and after XCLIENT) each

    def tearDown(self):
        self.mta.stop()
        if self.milter.alive():
            self.statuses.append(self.milter.stop())
        # Always unmounted: read-write first (a read-only tmpfs unmounts too, but be plain).
        mount("-o", "remount,rw", self.mnt)
        r = subprocess.run(["umount", self.mnt], capture_output=True, text=True)
        if r.returncode != 0:
            subprocess.run(["umount", "-l", self.mnt], capture_output=True, text=True)
        remove_workdir(self.workdir, self.statuses)

    def scrape(self) -> metrics.Scrape:
        return metrics.scrape(self.metrics_port)

    def send(self, count: int) -> None:
        for _ in range(count):
            swaks(self.mx_port, ehlo="mx.filling-peer.example", xclient_addr="192.0.2.25",
                  xclient_name="mx.filling-peer.example", sender="a@filling-peer.example")
            self.sent += 1

    def fill(self) -> int:
        """Writes a filler file until the filesystem says ENOSPC; returns its size."""
        size = 0
        with open(self.filler, "ab", buffering=0) as f:
            chunk = b"\0" * 4096
            while True:
                try:
                    size += f.write(chunk)
                except OSError as e:
                    self.assertEqual(e.errno, errno.ENOSPC)
                    break
        st = os.statvfs(self.mnt)
        self.assertEqual(st.f_bavail, 0, "the filesystem is full")
        return size

    def errors(self, scrape: metrics.Scrape) -> dict:
        return {dict(lab)["kind"]: v for lab, v in scrape.nonzero(
            "mailsec_store_errors_total").items()}

    def wait_store_error(self, kind: str):
        """The first scrape in which mailsec_store_errors_total{kind} is at least 1."""
        try:
            return wait_until(lambda: (lambda s: s if self.errors(s).get(kind, 0) >= 1
                                       else None)(self.scrape()),
                              timeout=15, what=f"a store error of kind {kind} counted")
        except TimeoutError:
            self.fail(f"store errors {self.errors(self.scrape())}\n{self.milter.log()[-3000:]}")

    def assert_counting_exactly(self, before: metrics.Scrape, delivered_before: int,
                                sends: int) -> metrics.Scrape:
        """Prometheus counted exactly 2 sessions and 1 message per transaction since
        `before`, and Postfix delivered every message."""
        want = before.total("mailsec_sessions_total") + 2 * sends
        after = wait_until(lambda: (lambda s: s if s.total("mailsec_sessions_total") >= want
                                    else None)(self.scrape()),
                           timeout=30, what=f"{want} sessions counted")
        self.assertEqual(after.total("mailsec_sessions_total"), want)
        self.assertEqual(after.value("mailsec_sessions_total", source=M, port_class="mx",
                                     tls="false")
                         - before.value("mailsec_sessions_total", source=M, port_class="mx",
                                        tls="false"), 2 * sends)
        self.assertEqual(after.value("mailsec_messages_total", source=M, port_class="mx",
                                     tls="false")
                         - before.value("mailsec_messages_total", source=M, port_class="mx",
                                        tls="false"), sends)
        self.assertEqual(after.total("mailsec_errors_total"), 0, "no internal error")
        self.mta.wait_delivered(delivered_before + sends)
        self.assertEqual(self.mta.delivered(), delivered_before + sends)
        self.assertTrue(self.milter.alive(), self.milter.log()[-3000:])
        return after

    def assert_store_caught_up(self) -> None:
        """Every session and message Prometheus counted is in the store, exactly once."""
        counted = self.scrape()
        want = (int(counted.total("mailsec_sessions_total")),
                int(counted.total("mailsec_messages_total")))
        self.assertEqual(want, (2 * self.sent, self.sent))
        try:
            wait_until(lambda: store_totals(self.store) == want, timeout=30, interval=0.2,
                       what="the store caught up")
        except TimeoutError:
            self.fail(f"store holds {store_totals(self.store)}, want {want}\n"
                      f"{self.milter.log()[-3000:]}")
        # Two more successful flushes: nothing kept from the failures is written twice.
        flushes = self.scrape().total("mailsec_store_flushes_total")
        wait_until(lambda: self.scrape().total("mailsec_store_flushes_total") >= flushes + 2,
                   timeout=15, what="two more flushes")
        self.assertEqual(store_totals(self.store), want)

    def store_lines(self, kind: str) -> list[str]:
        pattern = re.compile(rf"store {re.escape(self.store)}: .*\({kind}; {re.escape(WARNING)}")
        return [line for line in self.milter.log().splitlines() if pattern.search(line)]

    def test_full_then_read_only_filesystem(self):
        # A healthy store first.
        before, delivered = self.scrape(), self.mta.delivered()
        self.send(3)
        self.assert_counting_exactly(before, delivered, 3)
        self.assert_store_caught_up()
        self.assertEqual(self.errors(self.scrape()), {})

        # Full: the writer's next flush cannot grow the WAL.
        filled = self.fill()
        before, delivered = self.scrape(), self.mta.delivered()
        self.send(5)
        after = self.assert_counting_exactly(before, delivered, 5)
        after = self.wait_store_error("full")
        self.assertEqual(set(self.errors(after)), {"full"}, "only kind=full")
        self.assertTrue(self.store_lines("full"), self.milter.log()[-3000:])
        # Messages in the store stay what was flushed before the filesystem filled.
        self.assertEqual(store_totals(self.store)[1], 3)
        # Space again: the next flush writes what was kept.
        os.unlink(self.filler)
        self.assert_store_caught_up()
        full_errors = self.errors(self.scrape())["full"]

        # Read-only. Full again first, so that the writer closes the store after a failed
        # flush (while it holds it open, remount,ro is refused: EBUSY); then free the space and
        # remount read-only before the next flush (once a second) reopens it.
        remounted = False
        deadline = time.monotonic() + 60
        while not remounted and time.monotonic() < deadline:
            self.fill()
            errors = self.errors(self.scrape()).get("full", 0)
            self.send(1)
            wait_until(lambda: self.errors(self.scrape()).get("full", 0) > errors,
                       timeout=15, what="the flush failed on the full filesystem")
            os.unlink(self.filler)
            r = mount("-o", "remount,ro", self.mnt)
            remounted = r.returncode == 0
            if not remounted:
                self.assertIn("busy", r.stderr)
                self.assert_store_caught_up()  # the writer reopened it first: again
        self.assertTrue(remounted, "remount,ro never found the store closed")
        with self.assertRaises(OSError) as ctx:
            open(os.path.join(self.mnt, "probe"), "w")
        self.assertEqual(ctx.exception.errno, errno.EROFS)

        before, delivered = self.scrape(), self.mta.delivered()
        self.send(5)
        after = self.assert_counting_exactly(before, delivered, 5)
        after = self.wait_store_error("readonly")
        self.assertEqual(set(self.errors(after)), {"full", "readonly"})
        self.assertGreaterEqual(self.errors(after)["full"], full_errors)
        self.assertTrue(self.store_lines("readonly"), self.milter.log()[-3000:])
        # Writable again: the store catches up with every session and message.
        r = mount("-o", "remount,rw", self.mnt)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assert_store_caught_up()
        self.assertTrue(self.milter.alive())
        self.statuses.append(self.milter.stop())
        self.assertEqual(self.statuses[-1], 0, self.milter.log()[-3000:])
        self.assertEqual(store_totals(self.store), (2 * self.sent, self.sent))
        self.assertGreater(filled, 0)


if __name__ == "__main__":
    unittest.main()
