"""mailsec-policyd on a real Postfix, configured with the packaged snippet
(packaging/postfix/policyd.cf.snippet), beside mailsec-milter on the same Postfix: the milter's
known matrix of SMTP sessions (matrix.py), the exact counts policyd's /metrics must show for
it, and agreement between the two daemons' session, TLS and client-certificate counts.

With Postfix's default smtpd_delay_reject (yes), policyd is asked at RCPT and end of data, so
it cannot see the matrix's masked-STARTTLS session (it never reaches RCPT); with the snippet's
optional settings (smtpd_delay_reject off, the HELO list too) it sees every session. Faults:
garbage and a flood on the policy socket are answered or cut off and counted, and Postfix keeps
delivering (default_action=DUNNO) while policyd is killed."""
import os
import signal
import socket
import subprocess
import unittest

import matrix
import fixtures
from fixtures import (PolicydStack, deltas, new_workdir, postfix_policyd_settings, readable,
                      remove_workdir)
from harness.metrics import labels
from harness.pki import TestPki
from harness.smtp import raw_session, swaks

P = "policyd"
TEST_MAIN_CF = {
    # Count each smtpd's last session soon after the traffic: an idle policy connection closes
    # after this (Postfix's default is 300s).
    "smtpd_policy_service_max_idle": "1s",
    # One recipient that a check after policyd rejects: a transaction that never reaches DATA.
    "smtpd_recipient_restrictions":
        "check_recipient_access inline:{ rejected@mailsec.test=REJECT }, "
        "permit_mynetworks, reject_unauth_destination",
}
# Families that must be equal, per series, between the milter and policyd (source aside).
AGREEING = ("mailsec_sessions_total", "mailsec_tls_sessions_total",
            "mailsec_client_certificates_total", "mailsec_messages_total")


def as_source(series: dict, source: str) -> dict:
    """The series with their source label replaced."""
    return {frozenset((k, source if k == "source" else v) for k, v in lab): v
            for lab, v in series.items()}


def expected_for_policyd(sees_masked_session: bool) -> dict:
    """matrix.EXPECTED as policyd must count it: source="policyd", no unknown commands (the
    policy protocol does not report them), and without the masked-STARTTLS session (cleartext,
    MX, no message) unless policyd is asked before RCPT."""
    want = {family: as_source(series, P) for family, series in matrix.EXPECTED.items()}
    want["mailsec_unknown_commands_total"] = {}
    if not sees_masked_session:
        key = labels(source=P, port_class="mx", tls="false")
        want["mailsec_sessions_total"] = {**want["mailsec_sessions_total"],
                                          key: want["mailsec_sessions_total"][key] - 1}
    want["mailsec_policyd_connections_dropped_total"] = {}
    return want


class PolicydCase(unittest.TestCase):
    optional = False  # the snippet's optional settings

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.stack = PolicydStack(cls.workdir, cls.pki, optional=cls.optional, main_cf=TEST_MAIN_CF)
        cls.mx_port, cls.sub_port = cls.stack.mx_port, cls.stack.sub_port
        cls.stack.start()

    @classmethod
    def tearDownClass(cls):
        status = cls.stack.stop()
        remove_workdir(cls.workdir, [status, cls.stack.policyd_status])

    assert_deltas = fixtures.MilterCase.assert_deltas

    def assert_agreement(self, m0, m1, p0, p1, masked_session_only_in_milter: bool):
        """policyd counted what the milter counted (less the masked-STARTTLS session)."""
        for family in AGREEING:
            milter = as_source(deltas(m0, m1, family), P)
            if masked_session_only_in_milter and family == "mailsec_sessions_total":
                milter[labels(source=P, port_class="mx", tls="false")] -= 1
            self.assertEqual(readable(deltas(p0, p1, family)),
                             readable({k: v for k, v in milter.items() if v}),
                             f"{family}: policyd and milter disagree")

    def run_matrix(self):
        """Runs the matrix; returns (milter before, milter after, policyd before, after)."""
        stack = self.stack
        m0, p0 = stack.scrape(), stack.scrape_policyd()
        delivered = stack.mta.delivered()
        matrix.run(self.mx_port, self.sub_port, self.pki)
        m1 = stack.wait_sessions(m0, matrix.SESSIONS)
        stack.mta.wait_delivered(delivered + matrix.MESSAGES)
        sessions = matrix.SESSIONS - (0 if self.optional else 1)
        p1 = stack.wait_policyd_sessions(p0, sessions)
        return m0, m1, p0, p1


class DelayedReject(PolicydCase):
    """The packaged snippet as it is: client and end-of-data lists, smtpd_delay_reject=yes."""

    def test_two_messages_in_one_session_count_twice(self):
        # Postfix's `instance` changes per MAIL transaction, not per session.
        stack = self.stack
        m0, p0 = stack.scrape(), stack.scrape_policyd()
        delivered = stack.mta.delivered()
        message = [b"MAIL FROM:<sender@example.org>", b"RCPT TO:<user@mailsec.test>", b"DATA",
                   b"Subject: one of two\r\n\r\nbody\r\n."]
        replies = raw_session(self.mx_port, [b"EHLO client.mailsec.test", *message, *message,
                                             b"QUIT"])
        # EHLO, then MAIL, RCPT, DATA, end of data twice, then QUIT.
        self.assertEqual([r[:3] for r in replies[1:]],
                         [b"250", *[b"250", b"250", b"354", b"250"] * 2, b"221"])
        stack.mta.wait_delivered(delivered + 2)
        m1 = stack.wait_sessions(m0, 1)
        p1 = stack.wait_policyd_sessions(p0, 1)
        for scrape0, scrape1, source in ((m0, m1, "milter"), (p0, p1, P)):
            self.assert_deltas(scrape0, scrape1, "mailsec_sessions_total",
                               {labels(source=source, port_class="mx", tls="false"): 1})
            self.assert_deltas(scrape0, scrape1, "mailsec_messages_total",
                               {labels(source=source, port_class="mx", tls="false"): 2})
        self.assert_deltas(p0, p1, "mailsec_policyd_requests_total", {
            labels(protocol_state="rcpt"): 2, labels(protocol_state="end_of_message"): 2})

    def test_exact_counts_for_known_matrix_and_agreement_with_the_milter(self):
        m0, m1, p0, p1 = self.run_matrix()
        for family, want in expected_for_policyd(sees_masked_session=False).items():
            self.assert_deltas(p0, p1, family, want)
        # One client-list request per RCPT (one recipient each), one per end of data.
        self.assert_deltas(p0, p1, "mailsec_policyd_requests_total", {
            labels(protocol_state="rcpt"): matrix.MESSAGES,
            labels(protocol_state="end_of_message"): matrix.MESSAGES,
        })
        # The milter saw the same traffic, plus the masked session policyd cannot see.
        self.assert_agreement(m0, m1, p0, p1, masked_session_only_in_milter=True)

    def test_a_transaction_rejected_before_data_counts_a_session_and_no_message(self):
        stack = self.stack
        m0, p0 = stack.scrape(), stack.scrape_policyd()
        r = swaks(self.mx_port, tls13_suite="TLS_AES_128_GCM_SHA256", to="rejected@mailsec.test",
                  check=False)
        self.assertIn("554 5.7.1", r.stdout)
        m1 = stack.wait_sessions(m0, 1)
        p1 = stack.wait_policyd_sessions(p0, 1)
        for scrape0, scrape1, source in ((m0, m1, "milter"), (p0, p1, P)):
            self.assert_deltas(scrape0, scrape1, "mailsec_sessions_total",
                               {labels(source=source, port_class="mx", tls="true"): 1})
            self.assert_deltas(scrape0, scrape1, "mailsec_messages_total", {})
            self.assert_deltas(scrape0, scrape1, "mailsec_tls_sessions_total", {
                labels(source=source, version="TLSv1.3", kex="any", cipher="AES-128-GCM",
                       mac="AEAD", pfs="true", **{"class": "recommended"}): 1})
        self.assert_deltas(p0, p1, "mailsec_policyd_requests_total",
                           {labels(protocol_state="rcpt"): 1})

    def test_an_unverified_client_certificate_is_seen_by_policyd_only(self):
        # A certificate from a CA Postfix does not trust: Postfix tells a milter nothing of it,
        # and a policy server its fingerprints but no subject.
        rogue = TestPki(os.path.join(self.workdir, "rogue-pki"))
        stack = self.stack
        m0, p0 = stack.scrape(), stack.scrape_policyd()
        swaks(self.mx_port, tls13_suite="TLS_AES_256_GCM_SHA384", cert=rogue.client_cert,
              key=rogue.client_key)
        m1 = stack.wait_sessions(m0, 1)
        p1 = stack.wait_policyd_sessions(p0, 1)
        self.assert_deltas(m0, m1, "mailsec_client_certificates_total", {})
        self.assert_deltas(p0, p1, "mailsec_client_certificates_total",
                           {labels(source=P, verified="false"): 1})
        for scrape0, scrape1, source in ((m0, m1, "milter"), (p0, p1, P)):
            self.assert_deltas(scrape0, scrape1, "mailsec_sessions_total",
                               {labels(source=source, port_class="mx", tls="true"): 1})


class ImmediateReject(PolicydCase):
    """The snippet with its optional settings: policyd also sees sessions without RCPT."""

    optional = True

    def test_exact_counts_for_known_matrix_equal_the_milters(self):
        m0, m1, p0, p1 = self.run_matrix()
        for family, want in expected_for_policyd(sees_masked_session=True).items():
            self.assert_deltas(p0, p1, family, want)
        self.assert_deltas(p0, p1, "mailsec_policyd_requests_total", {
            labels(protocol_state="connect"): matrix.SESSIONS,
            # One EHLO per session, a second after each of the six STARTTLS.
            labels(protocol_state="ehlo"): matrix.SESSIONS + 6,
            labels(protocol_state="end_of_message"): matrix.MESSAGES,
        })
        self.assert_agreement(m0, m1, p0, p1, masked_session_only_in_milter=False)


class Faults(PolicydCase):
    """Hostile input on the policy socket, and Postfix failing open while policyd is down."""

    def test_garbage_on_the_policy_socket_is_answered_counted_and_harmless(self):
        stack = self.stack
        p0 = stack.scrape_policyd()
        with socket.create_connection(("127.0.0.1", stack.policy_port), timeout=10) as s:
            for bad in (b"\x00\xff\x01garbage\n\n", b"protocol_state=RCPT\n\n"):
                s.sendall(bad)
                self.assertEqual(s.recv(100), b"action=DUNNO\n\n")
        with socket.create_connection(("127.0.0.1", stack.policy_port), timeout=10) as s:
            try:  # 4 MiB without a line end: policyd closes the connection
                for _ in range(64):
                    s.sendall(b"x" * 65536)
                closed = s.recv(1) == b""
            except (BrokenPipeError, ConnectionResetError):
                closed = True
            self.assertTrue(closed)
        swaks(self.mx_port, tls13_suite="TLS_AES_128_GCM_SHA256")
        p1 = stack.wait_policyd_sessions(p0, 1)
        self.assert_deltas(p0, p1, "mailsec_input_errors_total",
                           {labels(source=P, kind="policy_request_invalid"): 3})
        self.assert_deltas(p0, p1, "mailsec_policyd_connections_dropped_total",
                           {labels(reason="input_flood"): 1})
        self.assert_deltas(p0, p1, "mailsec_sessions_total",
                           {labels(source=P, port_class="mx", tls="true"): 1})
        self.assertTrue(stack.policyd.alive())

    def test_postfix_delivers_while_policyd_is_down(self):
        stack = self.stack
        delivered = stack.mta.delivered()
        m0 = stack.scrape()
        stack.policyd.kill(signal.SIGKILL)
        swaks(self.mx_port)  # default_action=DUNNO: no 451 although nothing listens
        swaks(self.sub_port, tls13_suite="TLS_AES_256_GCM_SHA384")
        stack.mta.wait_delivered(delivered + 2)
        self.assertEqual(stack.mta.delivered(), delivered + 2)
        self.assert_deltas(m0, stack.wait_sessions(m0, 2), "mailsec_sessions_total", {
            labels(source="milter", port_class="mx", tls="false"): 1,
            labels(source="milter", port_class="submission", tls="true"): 1,
        })
        # Started again, it counts the next session from zero.
        stack.policyd.start()
        p0 = stack.scrape_policyd()
        self.assertEqual(p0.total("mailsec_sessions_total"), 0)
        swaks(self.mx_port, tls=True, protocol="tlsv1_2", cipher="ECDHE-RSA-AES128-GCM-SHA256")
        self.assert_deltas(p0, stack.wait_policyd_sessions(p0, 1), "mailsec_sessions_total",
                           {labels(source=P, port_class="mx", tls="true"): 1})
        stack.mta.wait_delivered(delivered + 3)

    def test_without_default_action_postfix_defers_mail_while_policyd_is_down(self):
        # The control for the snippet's default_action=DUNNO: Postfix's own default is 451.
        stack, postfix = self.stack, self.stack.mta
        plain = f"check_policy_service inet:127.0.0.1:{stack.policy_port}"
        packaged = postfix_policyd_settings(stack.policy_port)["smtpd_client_restrictions"]

        def client_restrictions(value: str) -> None:
            subprocess.run(["postconf", "-c", postfix.conf, "-e",
                            f"smtpd_client_restrictions = {value}"], check=True)
            subprocess.run(["postfix", "-c", postfix.conf, "reload"], check=True,
                           capture_output=True)

        stack.policyd.kill(signal.SIGKILL)
        client_restrictions(plain)
        try:
            r = swaks(self.mx_port, check=False)
            self.assertRegex(r.stdout, r"<\*\* 451 4\.3\.5 .*: Server configuration problem")
            self.assertNotEqual(r.returncode, 0)
        finally:
            client_restrictions(packaged)
            stack.policyd.start()


if __name__ == "__main__":
    unittest.main()
