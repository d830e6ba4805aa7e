"""Received-chain analysis end to end (issue 3): a message relayed over STARTTLS through a second
real MTA — Sendmail 8.17 from Debian's packages, unpacked into a private prefix — reaches
Postfix with mailsec-milter, which counts every hop (the one Sendmail's Received header
describes, the live hop into Postfix from the session's macros, and whatever the message
carried); mailsec-inspect --json on the message Postfix delivered shows the same hops, Postfix's
own Received header being the inbound one there. The MTAs share 127.0.0.1, so those hops are
not judged; a judged path (all_tls, and cleartext at the inbound hop) is shown straight to
Postfix with a documentation client address presented through XCLIENT."""
import json
import os
import re
import subprocess
import unittest

from fixtures import MilterStack, deltas, new_workdir, postfix_mta, readable, remove_workdir
from harness import processes
from harness.metrics import labels
from harness.pki import TestPki
from harness.ports import free_port
from harness.sendmail import Sendmail
from harness.smtp import swaks

RELAY_DOMAIN = "relay.test"  # Sendmail relays it to Postfix, which delivers it
DATA_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "data", "received")
FAMILIES = ("mailsec_received_hops_total", "mailsec_received_hop_tls_versions_total",
            "mailsec_message_paths_total", "mailsec_message_first_cleartext_hops_total",
            "mailsec_message_origin_submissions_total", "mailsec_received_headers_dropped_total",
            "mailsec_received_headers_unparsable_total")


def sendmail_relay_mc(postfix_port: int, pki: TestPki) -> str:
    """Sendmail relays RELAY_DOMAIN to Postfix on loopback, presenting the test client
    certificate when Postfix asks for one during STARTTLS."""
    return "\n".join([
        f"RELAY_DOMAIN(`{RELAY_DOMAIN}')dnl",
        "define(`SMART_HOST', `esmtp:[127.0.0.1]')dnl",
        f"define(`ESMTP_MAILER_ARGS', `TCP $h {postfix_port}')dnl",
        f"define(`confCLIENT_CERT', `{pki.client_cert}')dnl",
        f"define(`confCLIENT_KEY', `{pki.client_key}')dnl",
    ]) + "\n"


def inspect_json(path: str) -> dict:
    r = subprocess.run([os.path.join(processes.build_dir(), "report", "mailsec-inspect"),
                        "--json", path], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"mailsec-inspect exited {r.returncode}: {r.stderr}")
    return json.loads(r.stdout)


class RelayedThroughSendmail(unittest.TestCase):
    """swaks → Sendmail (STARTTLS) → Sendmail relays over STARTTLS → Postfix + mailsec-milter."""

    @classmethod
    def setUpClass(cls):
        cls.workdir = new_workdir(cls.__name__)
        cls.pki = TestPki(os.path.join(cls.workdir, "pki"))
        # Postfix must not share Sendmail's host name: Sendmail refuses to relay to a server
        # that greets with its own name ("mail loops back to me").
        # hopcount_limit: the hostile test's 150 Received headers must still be delivered.
        extra = {"myhostname": "inbound.mailsec.test",
                 "virtual_mailbox_domains": f"mailsec.test {RELAY_DOMAIN}",
                 "hopcount_limit": "500"}
        cls.stack = MilterStack(
            cls.workdir,
            lambda d, mx, sub, milter, pki: postfix_mta(d, mx, sub, milter, pki, extra),
            cls.pki)
        cls.relay_port = free_port()
        cls.sendmail = Sendmail(os.path.join(cls.workdir, "sendmail"), cls.relay_port,
                                pki=cls.pki, mc=sendmail_relay_mc(cls.stack.mx_port, cls.pki))
        cls.stack.start()
        try:
            cls.sendmail.start()
        except Exception:
            cls.stack.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.sendmail.stop()
        remove_workdir(cls.workdir, [cls.stack.stop()])

    def relay(self, port: int | None = None, **swaks_args) -> tuple:
        """Sends one message to Sendmail (or `port`) for RELAY_DOMAIN; waits until Postfix
        delivered it and the milter counted its session. Returns (before, after, message)."""
        postfix = self.stack.mta
        before = self.stack.scrape()
        delivered_before = postfix.delivered()
        known = set(postfix.delivered_messages())
        swaks(port or self.relay_port, to=f"user@{RELAY_DOMAIN}", **swaks_args)
        try:
            postfix.wait_delivered(delivered_before + 1, timeout=90)
        except Exception as e:
            raise AssertionError(f"{e}\nSendmail:\n{self.sendmail.log_tail()}\n"
                                 f"Postfix:\n{postfix.log_tail()}")
        after = self.stack.wait_sessions(before, 1)
        # The new message, not the last file name: maildir names within one second are not in
        # delivery order.
        new = [m for m in postfix.delivered_messages() if m not in known]
        self.assertEqual(len(new), 1, "exactly one new message delivered")
        return before, after, new[0]

    def save(self, message: bytes, name: str) -> str:
        path = os.path.join(self.workdir, name)
        with open(path, "wb") as f:
            f.write(message)
        return path

    def assert_family(self, before, after, family: str, want: dict):
        self.assertEqual(readable(deltas(before, after, family)),
                         readable({lab: float(v) for lab, v in want.items()}),
                         f"deltas of {family}")

    def assert_histogram(self, before, after, count: int, total: float):
        name = "mailsec_received_hops_per_message"
        self.assertEqual(after.total(name + "_count") - before.total(name + "_count"), count)
        self.assertEqual(after.total(name + "_sum") - before.total(name + "_sum"), total)

    def test_tls_origin_and_tls_relay(self):
        before, after, message = self.relay(tls13_suite="TLS_AES_256_GCM_SHA384")
        # What Sendmail wrote about the submission from swaks, and what Postfix wrote about
        # Sendmail's relaying connection: the headers this test is about.
        headers = message.split(b"\n\n", 1)[0].decode("utf-8", "replace")
        received = re.findall(r"^Received:.*(?:\n[ \t].*)*", headers, re.M)
        self.assertEqual(len(received), 2, headers)
        self.assertIn("(Postfix) with ESMTPS", received[0])
        self.assertIn("(using TLSv1.3 with cipher", received[0])
        self.assertIn("with ESMTPS", received[1])
        self.assertIn("(version=TLSv1.3 cipher=TLS_AES_256_GCM_SHA384 bits=256 verify=NO)",
                      received[1])

        # The milter: Sendmail's header is the origin hop (loopback, so not judged), the live
        # session is the inbound hop.
        self.assert_family(before, after, "mailsec_received_hops_total", {
            labels(position="origin", protocol="ESMTPS", tls="true"): 1,
            labels(position="inbound", protocol="ESMTPS", tls="true"): 1,
        })
        self.assert_family(before, after, "mailsec_received_hop_tls_versions_total", {
            labels(position="origin", version="TLSv1.3"): 1,
            labels(position="inbound", version="TLSv1.3"): 1,
        })
        # Both hops ran over loopback (this test's MTAs share 127.0.0.1): neither is judged,
        # so the path is unknown — counted as such, never guessed.
        self.assert_family(before, after, "mailsec_message_paths_total",
                           {labels(path="unknown"): 1})
        self.assert_family(before, after, "mailsec_message_first_cleartext_hops_total", {})
        self.assert_family(before, after, "mailsec_message_origin_submissions_total",
                           {labels(authenticated="false", tls="true"): 1})
        self.assert_family(before, after, "mailsec_received_headers_dropped_total", {})
        self.assert_histogram(before, after, 1, 2)

        # mailsec-inspect on the delivered message: Postfix's header is the inbound hop there,
        # with the same protocol and TLS version the milter took from the live session.
        got = inspect_json(self.save(message, "tls-relayed.eml"))
        self.assertEqual([(h["index"], h["position"], h["protocol"], h["tls"], h["tls_version"],
                           h["tls_evidence"]) for h in got["hops"]], [
            (0, "inbound", "ESMTPS", True, "TLSv1.3", "postfix"),
            (1, "origin", "ESMTPS", True, "TLSv1.3", "key_value"),
        ])
        self.assertEqual(got["hops"][0]["from"], "mx.mailsec.test")
        self.assertEqual(got["hops"][0]["by"], "inbound.mailsec.test")
        self.assertEqual(got["hops"][0]["client_cert"], "verified")
        self.assertEqual(got["hops"][0]["client_subject"], "client.mailsec.test")
        self.assertEqual(got["hops"][1]["cipher"], "TLS_AES_256_GCM_SHA384")
        self.assertEqual(got["hops"][1]["client_cert"], "not_presented")
        self.assertEqual(got["hops"][1]["by"], "mx.mailsec.test")
        self.assertEqual([h["loopback"] for h in got["hops"]], [True, True])
        self.assertEqual(got["path"], "unknown")
        self.assertEqual(got["hop_count"], 2)

    def test_real_chain_carried_through(self):
        # A real message (FreeBSD list via Outlook, 8 Received headers with a cleartext relay
        # hop) submitted in cleartext to Sendmail, relayed over STARTTLS to Postfix.
        source = os.path.join(DATA_DIR, "messages", "freebsd-outlook-arcbad.eml")
        before, after, message = self.relay(data=source)
        self.assert_family(before, after, "mailsec_received_hops_total", {
            # The eight carried headers: origin mapi, Exchange Online TLS 1.2 ×2, Postfix
            # ESMTPS ×3 (one TLS 1.2, two TLS 1.3), Postfix ESMTP ×2 — and Sendmail's own
            # header for the cleartext submission, then the live TLS hop into Postfix.
            labels(position="origin", protocol="MAPI", tls="unknown"): 1,
            labels(position="relay", protocol="exchange", tls="true"): 2,
            labels(position="relay", protocol="ESMTPS", tls="true"): 3,
            labels(position="relay", protocol="ESMTP", tls="false"): 3,
            labels(position="inbound", protocol="ESMTPS", tls="true"): 1,
        })
        self.assert_family(before, after, "mailsec_received_hop_tls_versions_total", {
            labels(position="relay", version="TLSv1.2"): 3,
            labels(position="relay", version="TLSv1.3"): 2,
            labels(position="inbound", version="TLSv1.3"): 1,
        })
        self.assert_family(before, after, "mailsec_message_paths_total",
                           {labels(path="cleartext_hop"): 1})
        self.assert_family(before, after, "mailsec_message_first_cleartext_hops_total",
                           {labels(position="relay"): 1})
        self.assert_family(before, after, "mailsec_message_origin_submissions_total",
                           {labels(authenticated="unknown", tls="unknown"): 1})
        self.assert_histogram(before, after, 1, 10)

        got = inspect_json(self.save(message, "real-chain-relayed.eml"))
        self.assertEqual(got["hop_count"], 10)
        self.assertEqual([(h["protocol"], h["tls"]) for h in got["hops"][:3]], [
            ("ESMTPS", True),   # Postfix, from Sendmail over STARTTLS
            ("ESMTP", False),   # Sendmail, from swaks in cleartext (loopback)
            ("ESMTPS", True),   # the message's own topmost header
        ])
        self.assertTrue(got["hops"][1]["loopback"])
        self.assertEqual(got["path"], "cleartext_hop")
        self.assertEqual(got["first_cleartext"], "relay")
        self.assertEqual(got["origin"]["protocol"], "MAPI")

    def test_judged_inbound_hop_through_xclient(self):
        # Straight to Postfix, presenting a documentation address through XCLIENT so the live
        # hop is not over loopback and is judged: a message whose one carried hop (a real
        # Postfix TLS 1.3 header) is encrypted, over TLS 1.3 → all_tls; the same in cleartext
        # → the first cleartext hop is the inbound one.
        carried = os.path.join(DATA_DIR, "headers", "postfix-tls13-no-client-cert.txt")
        with open(carried, "rb") as f:
            message = f.read() + b"Subject: one TLS hop\r\n\r\nhello\r\n"
        path = self.save(message, "one-tls-hop.eml")
        before, after, delivered = self.relay(port=self.stack.mx_port, data=path,
                                              tls13_suite="TLS_AES_128_GCM_SHA256",
                                              xclient_addr="192.0.2.50",
                                              xclient_name="[UNAVAILABLE]")
        self.assert_family(before, after, "mailsec_received_hops_total", {
            labels(position="origin", protocol="ESMTPS", tls="true"): 1,
            labels(position="inbound", protocol="ESMTPS", tls="true"): 1,
        })
        self.assert_family(before, after, "mailsec_message_paths_total",
                           {labels(path="all_tls"): 1})
        got = inspect_json(self.save(delivered, "one-tls-hop-delivered.eml"))
        self.assertEqual([(h["from_ip"], h["tls_version"], h["loopback"]) for h in got["hops"]],
                         [("192.0.2.50", "TLSv1.3", False), ("96.47.72.81", "TLSv1.3", False)])
        self.assertEqual(got["path"], "all_tls")

        before, after, delivered = self.relay(port=self.stack.mx_port, data=path,
                                              xclient_addr="192.0.2.51",
                                              xclient_name="[UNAVAILABLE]")
        self.assert_family(before, after, "mailsec_received_hops_total", {
            labels(position="origin", protocol="ESMTPS", tls="true"): 1,
            labels(position="inbound", protocol="ESMTP", tls="false"): 1,
        })
        self.assert_family(before, after, "mailsec_message_paths_total",
                           {labels(path="cleartext_hop"): 1})
        self.assert_family(before, after, "mailsec_message_first_cleartext_hops_total",
                           {labels(position="inbound"): 1})
        got = inspect_json(self.save(delivered, "one-tls-hop-cleartext.eml"))
        self.assertEqual(got["first_cleartext"], "inbound")

    def test_hostile_headers_counted_and_delivered(self):
        # Straight to Postfix (Sendmail refuses more than 25 hops): 150 Received headers, over
        # the milter's cap of 100, the first of them garbage. The mail is delivered, the cap is
        # counted, the hops that were kept are counted.
        lines = ["Received: (((((((((( unbalanced by nowhere with"]
        lines += [f"Received: from h{i}.example by h{i + 1}.example with ESMTP id {i}; "
                  "Mon, 4 Dec 2023 10:00:00 +0000" for i in range(149)]
        body = "\r\n".join(lines) + "\r\nSubject: many hops\r\n\r\nhello\r\n"
        path = self.save(body.encode(), "hostile.eml")
        before, after, _ = self.relay(port=self.stack.mx_port, data=path)
        self.assert_family(before, after, "mailsec_received_headers_dropped_total",
                           {labels(reason="header_cap"): 50})
        self.assert_family(before, after, "mailsec_received_headers_unparsable_total",
                           {labels(kind="malformed"): 1})
        self.assert_family(before, after, "mailsec_received_hops_total", {
            labels(position="relay", protocol="unknown", tls="unknown"): 1,
            labels(position="relay", protocol="ESMTP", tls="false"): 98,
            labels(position="origin", protocol="ESMTP", tls="false"): 1,
            labels(position="inbound", protocol="ESMTP", tls="false"): 1,
        })
        self.assert_histogram(before, after, 1, 101)
        self.assert_family(before, after, "mailsec_message_paths_total",
                           {labels(path="cleartext_hop"): 1})
        self.assert_family(before, after, "mailsec_message_first_cleartext_hops_total",
                           {labels(position="origin"): 1})
        # One warning line for the message, naming its queue id, nothing of its content.
        warnings = [line for line in self.stack.milter.log().splitlines()
                    if "Received headers:" in line]
        self.assertEqual(len(warnings), 1, warnings)
        self.assertRegex(warnings[0], r"warning: milter: [0-9A-F]+: Received headers: 50 over "
                                      r"the per-message caps, 1 malformed, 0 over the parser's "
                                      r"bounds; mail unaffected$")

if __name__ == "__main__":
    unittest.main()
