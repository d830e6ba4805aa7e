"""mailsec-milter on a real Sendmail 8.17 (Debian's packages, unpacked into a private prefix):
the same matrix of SMTP sessions as on Postfix gives the same exact counts, and Sendmail's own
client-certificate verdicts ({verify}) are counted by what they mean."""
import os
import signal
import subprocess
import unittest

import matrix
from fixtures import (MilterStack, SendmailMilterCase, deltas, new_workdir, postfix_mta,
                      readable, remove_workdir, sendmail_packaged_mta)
from harness.metrics import labels
from harness.pki import TestPki
from harness.smtp import swaks

M = "milter"


class TlsMatrix(matrix.MatrixTests, SendmailMilterCase):
    pass


class ClientCertificateVerdicts(SendmailMilterCase):
    def test_unverified_and_verified_client_certificates(self):
        # A self-signed client certificate: Sendmail accepts the session and says
        # {verify}=FAIL (it still sends the certificate's DN in {cert_subject}).
        d = os.path.join(self.workdir, "stranger")
        os.makedirs(d)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
                        "key.pem", "-out", "cert.pem", "-days", "7", "-subj",
                        "/O=Nobody We Know/CN=stranger.example"], cwd=d, check=True,
                       capture_output=True)
        before = self.scrape()
        delivered_before = self.sendmail.delivered()
        swaks(self.mx_port, tls=True, protocol="tlsv1_2", cert=os.path.join(d, "cert.pem"),
              key=os.path.join(d, "key.pem"))
        swaks(self.mx_port, tls13_suite="TLS_AES_128_GCM_SHA256", cert=self.pki.client_cert,
              key=self.pki.client_key)
        swaks(self.mx_port, tls=True)  # asked, none presented: {verify}=NO
        after = self.wait_sessions(before, 3)
        self.sendmail.wait_delivered(delivered_before + 3)

        self.assert_deltas(before, after, "mailsec_client_certificates_total", {
            labels(source=M, verified="false"): 1,
            labels(source=M, verified="true"): 1,
        })
        self.assert_deltas(before, after, "mailsec_sessions_total", {
            labels(source=M, port_class="mx", tls="true"): 3,
        })
        self.assert_deltas(before, after, "mailsec_input_errors_total", {})
        self.assert_deltas(before, after, "mailsec_errors_total", {})


class FailsOpen(SendmailMilterCase):
    """The packaged snippet's filter (no F= flag): with mailsec-milter killed, Sendmail still
    accepts and delivers every message; started again, the milter counts the next session."""

    make_mta = staticmethod(sendmail_packaged_mta)

    def test_sendmail_delivers_while_the_milter_is_down(self):
        delivered_before = self.sendmail.delivered()
        self.milter.kill(signal.SIGKILL)
        swaks(self.mx_port)
        swaks(self.mx_port, tls13_suite="TLS_AES_256_GCM_SHA384")
        swaks(self.sub_port, tls=True, cert=self.pki.client_cert, key=self.pki.client_key)
        self.sendmail.wait_delivered(delivered_before + 3)

        self.milter.start()
        before = self.scrape()
        self.assertEqual(before.total("mailsec_sessions_total"), 0)
        swaks(self.mx_port, tls13_suite="TLS_AES_128_GCM_SHA256")
        after = self.wait_sessions(before, 1)
        self.assert_deltas(before, after, "mailsec_sessions_total", {
            labels(source=M, port_class="mx", tls="true"): 1,
        })
        self.sendmail.wait_delivered(delivered_before + 4)
        self.assertEqual(self.sendmail.delivered(), delivered_before + 4)


class SameNumbersAsPostfix(unittest.TestCase):
    """The matrix against Postfix and against Sendmail, each with its own milter, in one run:
    every series that changes, changes by the same amount on both. This Sendmail is configured
    with the packaged snippet (packaging/sendmail/mailsec.mc); TlsMatrix's relies on
    smfi_setsymlist alone."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        cls.stacks = {}
        try:
            for name, make_mta in (("postfix", postfix_mta),
                                   ("sendmail", sendmail_packaged_mta)):
                directory = os.path.join(cls.workdir, name)
                os.makedirs(directory)
                stack = MilterStack(directory, make_mta, cls.pki)
                stack.start()
                cls.stacks[name] = stack
        except Exception:
            for stack in cls.stacks.values():
                stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        remove_workdir(cls.workdir, [stack.stop() for stack in cls.stacks.values()])

    def run_matrix(self, stack: MilterStack) -> dict:
        """Runs the matrix against one stack; returns {family: {labels: delta}} of every
        mailsec family whose series changed."""
        before = stack.scrape()
        delivered_before = stack.mta.delivered()
        replies = matrix.run(stack.mx_port, stack.sub_port, self.pki)
        self.assertTrue(replies[2].startswith(stack.mta.UNKNOWN_COMMAND_REPLY), replies)
        after = stack.wait_sessions(before, matrix.SESSIONS)
        stack.mta.wait_delivered(delivered_before + matrix.MESSAGES)
        families = {name for name, _ in after.samples if name.startswith("mailsec_")}
        changed = {family: readable(deltas(before, after, family)) for family in families}
        return {family: series for family, series in changed.items() if series}

    def test_same_nonzero_series_on_postfix_and_sendmail(self):
        on_postfix = self.run_matrix(self.stacks["postfix"])
        on_sendmail = self.run_matrix(self.stacks["sendmail"])
        self.assertEqual(on_postfix, {family: readable(want)
                                      for family, want in {**matrix.EXPECTED,
                                                           **matrix.MILTER_EXPECTED}.items()
                                      if want})
        self.assertEqual(on_sendmail, on_postfix)


if __name__ == "__main__":
    unittest.main()
