"""mailsec-milter fails open: killed with SIGKILL mid-run, Postfix still accepts and delivers
every message; hostile input neither crashes it nor adds a single metric series."""
import random
import signal
import string
import threading
import unittest
from concurrent.futures import ThreadPoolExecutor

from fixtures import PostfixMilterCase
from harness.metrics import labels
from harness.ports import wait_until
from harness.smtp import raw_message, raw_session, swaks

M = "milter"


class SigkillDuringRun(PostfixMilterCase):
    def test_postfix_delivers_every_message_while_the_milter_dies(self):
        delivered_before = self.postfix.delivered()
        sent = 0
        killed = threading.Event()

        def sender():
            nonlocal sent
            for i in range(30):
                swaks(self.mx_port, tls=(i % 2 == 0))
                sent += 1
                if sent == 10:
                    killed.set()

        thread = threading.Thread(target=sender)
        thread.start()
        killed.wait(timeout=120)
        self.milter.kill(signal.SIGKILL)
        thread.join(timeout=300)
        self.assertEqual(sent, 30, "every SMTP transaction must succeed")
        self.assertFalse(self.milter.alive())
        self.postfix.wait_delivered(delivered_before + 30)
        self.assertEqual(self.postfix.delivered(), delivered_before + 30)

        # Started again, it measures the next session from zero.
        self.milter.start()
        before = self.scrape()
        self.assertEqual(before.total("mailsec_sessions_total"), 0)
        swaks(self.mx_port, tls13_suite="TLS_AES_128_GCM_SHA256")
        after = self.wait_sessions(before, 1)
        self.assertEqual(after.value("mailsec_sessions_total", source=M, port_class="mx",
                                     tls="true"), 1)
        self.postfix.wait_delivered(delivered_before + 31)


def _random_word(rng: random.Random, length: int) -> bytes:
    # A letter first: Postfix drops a session whose command starts with anything else
    # (smtpd_forbidden_commands), and this test wants the command to reach the milter.
    return (rng.choice(string.ascii_letters) +
            "".join(rng.choice(string.ascii_letters + string.digits + "-._")
                    for _ in range(length - 1))).encode()


class HostileInput(PostfixMilterCase):
    def test_hostile_helo_and_unknown_commands(self):
        # Warm up: one session of every shape used below, so that any series they create
        # exists before the series count is taken.
        warm = self.scrape()
        raw_session(self.mx_port, [b"EHLO warm.example", b"WARMUP", b"QUIT"])
        raw_message(self.mx_port, b"x" * 10240)
        raw_message(self.mx_port, b"\xff\xfe\x80bad\x01\x7f.example")
        baseline = self.wait_sessions(warm, 3)
        delivered_before = self.postfix.delivered()
        series_before = baseline.series_count()

        # A 10 kB HELO and non-UTF-8 bytes, each in a session that still sends a message.
        replies = raw_message(self.mx_port, b"h" * 10240)
        self.assertTrue(any(r.startswith(b"250 2.0.0 Ok: queued") for r in replies), replies)
        replies = raw_message(self.mx_port, b"\xc3\x28\xa0\xa1\xe2\x82\x28.\xf0\x28\x8c\xbc")
        self.assertTrue(any(r.startswith(b"250 2.0.0 Ok: queued") for r in replies), replies)

        # 1,000 sessions, each with its own random HELO and its own unknown command.
        rng = random.Random(20261124)
        sessions = [(_random_word(rng, rng.randint(1, 200)),
                     _random_word(rng, rng.randint(1, 60)).upper()) for _ in range(1000)]
        # A random verb could by chance look like a mangled STARTTLS; keep the expectation exact.
        sessions = [(h, c if not c.startswith((b"STAR", b"XXXXXXXX")) else b"Q" + c)
                    for h, c in sessions]

        def run(session):
            helo, command = session
            return raw_session(self.mx_port, [b"EHLO " + helo, command, b"QUIT"])

        with ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(run, sessions))
        self.assertEqual(sum(1 for r in results if len(r) == 4), 1000, "every session completed")

        after = self.wait_sessions(baseline, 1002, timeout=120)
        self.postfix.wait_delivered(delivered_before + 2)
        self.assertTrue(self.milter.alive(), self.milter.log())
        self.assertEqual(after.series_count(), series_before,
                         "hostile input must not add a metric series")
        self.assert_deltas(baseline, after, "mailsec_sessions_total", {
            labels(source=M, port_class="mx", tls="false"): 1002,
        })
        self.assert_deltas(baseline, after, "mailsec_unknown_commands_total", {
            labels(source=M, signature="other"): 1000,
        })
        self.assert_deltas(baseline, after, "mailsec_messages_total", {
            labels(source=M, port_class="mx", tls="false"): 2,
        })
        # Postfix hands the milter the (truncated) 10 kB HELO and the raw 8-bit one.
        self.assert_deltas(baseline, after, "mailsec_input_errors_total", {
            labels(source=M, kind="helo_too_long"): 1,
            labels(source=M, kind="helo_invalid_bytes"): 1,
        })
        self.assert_deltas(baseline, after, "mailsec_errors_total", {})
        for lab in after.series("mailsec_unknown_commands_total"):
            self.assertIn(dict(lab)["signature"], {"starttls_masked", "starttls_truncated", "other"})


if __name__ == "__main__":
    unittest.main()
